package links

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/dozen-go/dozen/internal/buildinfo"
	"github.com/dozen-go/dozen/internal/config"
	"github.com/dozen-go/dozen/internal/database"
	"github.com/dozen-go/dozen/internal/database/dbtest"
	"github.com/dozen-go/dozen/internal/health"
	"github.com/dozen-go/dozen/internal/httpapi"
	"github.com/dozen-go/dozen/internal/jobs"
	"github.com/dozen-go/dozen/internal/logging"
	"github.com/dozen-go/dozen/internal/store"
	"github.com/dozen-go/dozen/migrations"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// quietLog is a logger for tests that look at responses, not logs.
var quietLog = slog.New(slog.DiscardHandler)

// deps are a test server's dependencies: the server's, and the link
// routes' (over in-memory fakes unless a test replaces them).
type deps struct {
	httpapi.Deps
	Links Feature
}

// testDeps returns deps with a fresh registry and a logger writing JSON
// lines into the returned buffer.
func testDeps(t *testing.T) (deps, *prometheus.Registry, *syncBuffer) {
	t.Helper()
	var cfg config.Config
	if err := config.Process(&cfg, func(string) (string, bool) { return "", false }); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	cfg.Log.Level = slog.LevelDebug
	cfg.Log.FlushInterval = 0
	log, _ := logging.New(logs, cfg.Log)
	reg := prometheus.NewRegistry()
	st, queue := testDatabase(t)
	return deps{
		Deps: httpapi.Deps{
			Config:  cfg.HTTP,
			Log:     log,
			Metrics: reg,
			Health:  health.NewChecker(log, time.Second, 0),
			Build:   buildinfo.Info{Module: "example.com/svc", Version: "v1.0.0", GoVersion: "go1.26"},
			Store:   st,
			Jobs:    queue,
		},
		Links: exampleDeps(cfg.Links, log),
	}, reg, logs
}

// newServer returns the whole HTTP stack with d.Links mounted, under d's
// logger and HTTP settings.
func newServer(d deps) http.Handler {
	f := d.Links
	f.Log = d.Log
	f.HTTP = d.Config
	d.Features = append(d.Features, &f)
	return httpapi.NewServer(d.Deps)
}

// testDatabase returns a store over an embedded database of the test's
// own, migrated, that goes when the test ends, and a job inserter over it.
func testDatabase(t *testing.T) (*store.Store, *jobs.Client) {
	t.Helper()
	db := dbtest.Open(t, migrations.SQLite)
	queue, err := jobs.NewInserter(db.SQL, db.Dialect, quietLog, nil)
	if err != nil {
		t.Fatal(err)
	}
	return store.New(db.SQL), queue
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// lines decodes the JSON log lines written so far.
func (s *syncBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s.b.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// problem is an RFC 9457 problem details object, as web.Problem writes it.
type problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail,omitempty"`
	Instance  string `json:"instance,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// decodeProblem checks that resp is problem+json and decodes it.
func decodeProblem(t *testing.T, resp *http.Response) problem {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json", ct)
	}
	var p problem
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		t.Fatalf("decode problem: %v", err)
	}
	return p
}

// checkSecurityHeaders checks that h, a response's headers, carries the
// headers every response carries, whatever its status.
func checkSecurityHeaders(t *testing.T, what string, h http.Header) {
	t.Helper()
	for k, v := range map[string]string{
		"X-Content-Type-Options":       "nosniff",
		"Referrer-Policy":              "no-referrer",
		"Content-Security-Policy":      "default-src 'none'; frame-ancestors 'none'",
		"Strict-Transport-Security":    "max-age=63072000; includeSubDomains",
		"Cross-Origin-Resource-Policy": "same-origin",
	} {
		if got := h.Values(k); len(got) != 1 || got[0] != v {
			t.Errorf("%s: %s = %q, want %q", what, k, got, v)
		}
	}
}

// databases returns a fresh, migrated database of each dialect. Without a
// Postgres server the test skips, or fails under REQUIRE_INTEGRATION_TESTS.
func databases(t *testing.T) []*database.DB {
	t.Helper()
	return []*database.DB{dbtest.Open(t, migrations.SQLite), dbtest.Open(t, migrations.Postgres)}
}

// options are the options of a test's worker.
func options() jobs.Options {
	return jobs.Options{Workers: 2, JobTimeout: 10 * time.Second, PollInterval: 50 * time.Millisecond}
}

// stopWorker stops c, which must stop within 10 seconds.
func stopWorker(t *testing.T, c *jobs.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Stop(ctx); err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("stop worker: %v", err)
	}
}
