package health

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

var discard = slog.New(slog.DiscardHandler)

func TestCheckerReadiness(t *testing.T) {
	down := func(context.Context) error { return errors.New("connection refused") }
	up := func(context.Context) error { return nil }
	slow := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	tests := []struct {
		name   string
		checks []Check
		want   Report
	}{
		{"no checks", nil, Report{Ready: true, Checks: []Result{}}},
		{"all up", []Check{{"db", true, up}, {"cache", false, up}},
			Report{Ready: true, Checks: []Result{{"db", true, true}, {"cache", false, true}}}},
		{"required down", []Check{{"db", true, down}, {"cache", false, up}},
			Report{Ready: false, Checks: []Result{{"db", true, false}, {"cache", false, true}}}},
		{"optional down stays ready", []Check{{"db", true, up}, {"cache", false, down}},
			Report{Ready: true, Checks: []Result{{"db", true, true}, {"cache", false, false}}}},
		{"required too slow", []Check{{"db", true, slow}},
			Report{Ready: false, Checks: []Result{{"db", true, false}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewChecker(discard, 50*time.Millisecond, 0, tt.checks...)
			if got := c.Check(t.Context()); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Check() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestCheckerCachesAndShutsDown(t *testing.T) {
	var calls atomic.Int32
	c := NewChecker(discard, time.Second, time.Hour, Check{"db", true, func(context.Context) error {
		calls.Add(1)
		return nil
	}})
	for range 5 {
		if r := c.Check(t.Context()); !r.Ready {
			t.Fatalf("Check() = %+v, want ready", r)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("probe ran %d times within the TTL, want 1", n)
	}
	c.Shutdown()
	if r := c.Check(t.Context()); r.Ready || !r.ShuttingDown {
		t.Errorf("Check() after Shutdown = %+v, want not ready, shutting down", r)
	}
}

func TestReadinessMetrics(t *testing.T) {
	var dbUp atomic.Bool
	c := NewChecker(discard, time.Second, 0,
		Check{"db", true, func(context.Context) error {
			if dbUp.Load() {
				return nil
			}
			return errors.New("down")
		}},
		Check{"cache", false, func(context.Context) error { return nil }})
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	want := func(ready int, db int) string {
		return fmt.Sprintf(`# HELP backing_service_up 1 when the backing service answered its last readiness check; required says whether it fails readiness.
# TYPE backing_service_up gauge
backing_service_up{required="false",service="cache"} 1
backing_service_up{required="true",service="db"} %d
# HELP ready 1 when the process would answer /readyz with 200: every required backing service answers and no shutdown has begun.
# TYPE ready gauge
ready %d
`, db, ready)
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want(0, 0))); err != nil {
		t.Errorf("database down: %v", err)
	}
	dbUp.Store(true)
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want(1, 1))); err != nil {
		t.Errorf("all up: %v", err)
	}
	c.Shutdown()
	if err := testutil.GatherAndCompare(reg, strings.NewReader("# HELP ready 1 when the process would answer /readyz with 200: every required backing service answers and no shutdown has begun.\n# TYPE ready gauge\nready 0\n")); err != nil {
		t.Errorf("shutting down: %v", err)
	}
}
