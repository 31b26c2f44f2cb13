package linkse2e

import (
	"context"
	"database/sql"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dozen-go/dozen/internal/config"
	"github.com/dozen-go/dozen/internal/database"
	"github.com/dozen-go/dozen/internal/jobs"
	"github.com/dozen-go/dozen/internal/links"
	"github.com/dozen-go/dozen/internal/logging"
	"github.com/dozen-go/dozen/internal/store"
)

// TestWorkerEndToEnd runs the real worker on the embedded database: it
// folds clicks that a web process enqueued, serves its probes and metrics
// on the admin listener, and stops cleanly on SIGTERM.
func TestWorkerEndToEnd(t *testing.T) {
	env := map[string]string{"DATA_DIR": t.TempDir(), "JOB_POLL_INTERVAL": "50ms", "SHUTDOWN_TIMEOUT": "5s"}
	w := start(t, "worker", env)
	admin := "http://" + w.AdminAddr
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }

	// Play the web process: record clicks, enqueueing the fold with them.
	cfg, err := config.Load(lookup)
	if err != nil {
		t.Fatal(err)
	}
	log, _ := logging.New(io.Discard, cfg.Log)
	db, err := database.Open(t.Context(), cfg.Database, log, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ins, err := jobs.NewInserter(db.SQL, db.Dialect, log, nil)
	if err != nil {
		t.Fatal(err)
	}
	web := links.NewStore(store.New(db.SQL)).WithClickJobs(func(ctx context.Context, tx *sql.Tx) error { return links.EnqueueFoldTx(ctx, ins, tx) })
	l, err := web.CreateLink(t.Context(), links.Link{Code: "e2e2", URL: "https://example.com", CreatedAt: time.Now()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := web.AppendClicks(t.Context(), links.NewClickBatch(map[int64]int64{l.ID: 12}, time.Now())); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		got, err := web.Link(t.Context(), "e2e2")
		if err != nil {
			t.Fatal(err)
		}
		if got.Clicks == 12 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("clicks = %d after 10s, want 12 folded by the worker", got.Clicks)
		}
	}

	for path, want := range map[string]string{"/livez": "ok", "/readyz": `"ready":true`, "/metrics": `jobs_total{kind="fold_clicks",outcome="completed"}`} {
		// The job's event reaches the metrics just after its commit.
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			resp, err := http.Get(admin + path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && strings.Contains(string(body), want) {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("GET admin %s = %d, want 200 containing %s", path, resp.StatusCode, want)
				break
			}
		}
	}
	http.DefaultClient.CloseIdleConnections()

	w.Signal(t, syscall.SIGTERM)
	if code := w.Wait(t, 15*time.Second); code != 0 {
		t.Errorf("worker exit code %d after SIGTERM, want 0 after a clean stop", code)
	}
}
