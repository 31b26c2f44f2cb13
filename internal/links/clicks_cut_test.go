package links

// example: the click flush and fold under lost commit replies.

import (
	"log/slog"
	"maps"
	"testing"
	"time"

	"github.com/dozen-go/dozen/internal/database"
	"github.com/dozen-go/dozen/internal/database/dbtest"
	"github.com/dozen-go/dozen/internal/postgres/pgtest"
	"github.com/dozen-go/dozen/internal/store"
	"github.com/dozen-go/dozen/migrations"
)

// TestClicksCountOnceWhenCommitRepliesAreLost flushes clicks through a
// proxy that forwards COMMIT to Postgres and cuts the connection before
// the reply comes back, so every cut flush committed and failed. Retried
// flushes, and a fold whose commit is cut the same way, must leave each
// link with exactly the clicks recorded on it.
func TestClicksCountOnceWhenCommitRepliesAreLost(t *testing.T) {
	cfg := dbtest.Migrated(t, migrations.Postgres)
	direct, err := database.Open(t.Context(), cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	proxied := cfg
	var cutter *pgtest.CommitCutter
	proxied.URL, cutter = pgtest.NewCommitCutter(t, cfg.URL)
	db, err := database.Open(t.Context(), proxied, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, check := NewStore(store.New(db.SQL)), NewStore(store.New(direct.SQL))

	ids := []int64{mustCreate(t, check, "cuta", nil).ID, mustCreate(t, check, "cutb", nil).ID, mustCreate(t, check, "cutc", nil).ID}
	sent := map[int64]int64{}
	c := NewClicks(s, slog.New(slog.DiscardHandler), time.Hour, nil)
	ctx := t.Context()
	const flushes = 12
	for flush := range flushes {
		for i, id := range ids {
			for range (flush+i)%4 + 1 {
				c.Record(ctx, id)
				sent[id]++
			}
		}
		cutter.Arm(1)
		if err := c.Flush(ctx); err == nil {
			t.Fatalf("flush %d: Flush() with its commit reply lost = nil, want the error", flush)
		}
		if got := cutter.Cuts(); got != flush+1 {
			t.Fatalf("flush %d: %d commits cut, want %d", flush, got, flush+1)
		}
		// Every other lost flush is retried at once; the others are
		// retried together with the next flush's clicks.
		if flush%2 == 1 {
			if err := c.Flush(ctx); err != nil {
				t.Fatalf("flush %d: retried Flush() = %v", flush, err)
			}
		}
	}
	if err := c.Flush(ctx); err != nil {
		t.Fatalf("last Flush() = %v", err)
	}
	if n := c.Pending(); n != 0 {
		t.Fatalf("Pending() after the last flush = %d, want 0", n)
	}

	// A fold whose commit reply is lost, retried as the job queue retries it.
	cutter.Arm(1)
	if _, err := s.FoldClicks(ctx); err == nil {
		t.Fatal("FoldClicks() with its commit reply lost = nil, want the error")
	}
	if _, err := s.FoldClicks(ctx); err != nil {
		t.Fatalf("retried FoldClicks() = %v", err)
	}

	got := map[int64]int64{}
	for _, code := range []string{"cuta", "cutb", "cutc"} {
		l, err := check.Link(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		got[l.ID] = l.Clicks
	}
	if !maps.Equal(got, sent) {
		t.Errorf("clicks counted = %v, want the clicks sent, %v", got, sent)
	}
}
