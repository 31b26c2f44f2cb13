package postgres

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/dozen-go/dozen/internal/config"
	"github.com/dozen-go/dozen/internal/postgres/pgtest"
)

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestOpenGivesUpAfterBoundedRetries(t *testing.T) {
	const password = "pg-s3cr3t-pw"
	u, err := config.ParseURL("postgres://app:" + password + "@" + closedPort(t) + "/app?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	db, err := Open(t.Context(), u, Options{Attempts: 3, ConnectTimeout: time.Second})
	elapsed := time.Since(start)
	if err == nil {
		db.Close()
		t.Fatal("Open(closed port) = nil error, want one")
	}
	if !strings.Contains(err.Error(), "gave up after 3 attempts") {
		t.Errorf("Open(closed port) error = %q, want it to say how many attempts", err)
	}
	if strings.Contains(err.Error(), password) {
		t.Errorf("Open(closed port) error = %q, contains the password", err)
	}
	if !IsUnavailable(err) {
		t.Errorf("IsUnavailable(%v) = false, want true", err)
	}
	// Pauses of 250ms and 500ms between three quick refusals.
	if elapsed < 700*time.Millisecond || elapsed > 5*time.Second {
		t.Errorf("Open(closed port) took %v, want about 750ms of backoff", elapsed)
	}
}

func TestOpenStopsRetryingWhenContextEnds(t *testing.T) {
	u, _ := config.ParseURL("postgres://app@" + closedPort(t) + "/app?sslmode=disable")
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if db, err := Open(ctx, u, Options{Attempts: 100, ConnectTimeout: time.Second}); err == nil {
		db.Close()
		t.Fatal("Open() = nil error, want one")
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("Open() took %v after its context ended, want it to stop", elapsed)
	}
}

func TestOpenPingCollectAndOutage(t *testing.T) {
	u := pgtest.NewDatabase(t)
	db, err := Open(t.Context(), u, Options{MaxConns: 4, Attempts: 1, ConnectTimeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("Open() = %v", err)
	}
	defer db.Close()
	if err := db.Ping(t.Context()); err != nil {
		t.Fatalf("Ping() = %v", err)
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(Collector(db.Pool))
	if n, err := testutil.GatherAndCount(reg); err != nil || n != 11 {
		t.Errorf("gathered %d pool metrics, %v; want 11", n, err)
	}
	if got := testutil.ToFloat64(prometheusGauge(t, reg, "db_pool_max_connections")); got != 4 {
		t.Errorf("db_pool_max_connections = %v, want 4", got)
	}

	pgtest.SetDown(t, pgtest.Name(u), true)
	t.Cleanup(func() { pgtest.SetDown(t, pgtest.Name(u), false) })
	err = db.Ping(t.Context())
	if err == nil || !IsUnavailable(err) {
		t.Errorf("Ping() while down = %v, want an error IsUnavailable recognises", err)
	}
	pgtest.SetDown(t, pgtest.Name(u), false)
	if err := db.Ping(t.Context()); err != nil {
		t.Errorf("Ping() after recovery = %v, want nil: the pool reconnects by itself", err)
	}
}

// prometheusGauge finds one gathered metric as a collector for testutil.
func prometheusGauge(t *testing.T, reg *prometheus.Registry, name string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: "copy"},
				func() float64 { return mf.GetMetric()[0].GetGauge().GetValue() })
		}
	}
	t.Fatalf("no metric %s", name)
	return nil
}

func TestClassifyErrors(t *testing.T) {
	tests := []struct {
		err                    error
		unavailable, duplicate bool
	}{
		{errors.New("syntax error"), false, false},
		{&net.OpError{Op: "dial", Err: errors.New("refused")}, true, false},
	}
	for _, tt := range tests {
		if got := IsUnavailable(tt.err); got != tt.unavailable {
			t.Errorf("IsUnavailable(%v) = %v, want %v", tt.err, got, tt.unavailable)
		}
		if got := IsUniqueViolation(tt.err); got != tt.duplicate {
			t.Errorf("IsUniqueViolation(%v) = %v, want %v", tt.err, got, tt.duplicate)
		}
	}
}
