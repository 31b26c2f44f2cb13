package links

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
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
	"github.com/dozen-go/dozen/internal/httpapi/apitest"
	"github.com/dozen-go/dozen/internal/jobs"
	"github.com/dozen-go/dozen/internal/logging"
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
func testDeps(t *testing.T) (deps, *prometheus.Registry, *apitest.LogBuffer) {
	t.Helper()
	var cfg config.Config
	if err := config.Process(&cfg, func(string) (string, bool) { return "", false }); err != nil {
		t.Fatal(err)
	}
	logs := &apitest.LogBuffer{}
	cfg.Log.Level = slog.LevelDebug
	cfg.Log.FlushInterval = 0
	log, _ := logging.New(logs, cfg.Log)
	reg := prometheus.NewRegistry()
	st, queue := apitest.Database(t)
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
