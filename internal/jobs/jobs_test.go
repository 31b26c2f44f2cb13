package jobs

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"go.uber.org/goleak"

	"github.com/dozen-go/dozen/internal/database"
	"github.com/dozen-go/dozen/internal/database/dbtest"
	"github.com/dozen-go/dozen/migrations"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var quiet = slog.New(slog.DiscardHandler)

// databases returns a fresh, migrated database of each dialect. Without a
// Postgres server the test skips, or fails under REQUIRE_INTEGRATION_TESTS.
func databases(t *testing.T) []*database.DB {
	t.Helper()
	return []*database.DB{dbtest.Open(t, migrations.SQLite), dbtest.Open(t, migrations.Postgres)}
}

func options() Options {
	return Options{Workers: 2, JobTimeout: 10 * time.Second, PollInterval: 50 * time.Millisecond}
}

// noteArgs is a job of the tests' own: it carries a value to record.
type noteArgs struct{ N int }

func (noteArgs) Kind() string { return "test_note" }

// noteWorker records the sum of the values of the jobs it ran.
type noteWorker struct {
	river.WorkerDefaults[noteArgs]
	sum atomic.Int64
	ran chan struct{}
}

func (w *noteWorker) Work(_ context.Context, job *river.Job[noteArgs]) error {
	w.sum.Add(int64(job.Args.N))
	w.ran <- struct{}{}
	return nil
}

// TestJobInsertedWithItsWrite enqueues jobs as a web process does, in the
// transaction of a write: the job of a committed transaction runs, the
// job of a rolled-back one never exists.
func TestJobInsertedWithItsWrite(t *testing.T) {
	for _, d := range databases(t) {
		t.Run(d.Dialect, func(t *testing.T) {
			ins, err := NewInserter(d.SQL, d.Dialect, quiet, nil)
			if err != nil {
				t.Fatal(err)
			}
			insert := func(n int, commit bool) {
				tx, err := d.SQL.BeginTx(t.Context(), nil)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := ins.InsertTx(t.Context(), tx, noteArgs{N: n}, nil); err != nil {
					t.Fatal(err)
				}
				if commit {
					err = tx.Commit()
				} else {
					err = tx.Rollback()
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			insert(1, false)
			insert(2, true)

			set := NewSet()
			w := &noteWorker{ran: make(chan struct{}, 2)}
			Add(set, w)
			if set.Empty() {
				t.Fatal("Empty after Add = true")
			}
			c, err := NewWorker(d.SQL, d.Dialect, quiet, options(), set)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Start(t.Context()); err != nil {
				t.Fatal(err)
			}
			defer stopWorker(t, c)
			waitRuns(t, w.ran, 1)
			// A second job, had the rolled-back one existed, would run
			// within a few polls.
			select {
			case <-w.ran:
				t.Fatal("a job inserted in a rolled-back transaction ran")
			case <-time.After(10 * options().PollInterval):
			}
			if got := w.sum.Load(); got != 2 {
				t.Errorf("sum of the jobs run = %d, want 2 (the committed job's)", got)
			}
		})
	}
}

// TestPeriodicJobRuns schedules a job with AddPeriodic: it runs with no
// insert from anyone, and again each interval.
func TestPeriodicJobRuns(t *testing.T) {
	d := dbtest.Open(t, migrations.SQLite)
	set := NewSet()
	w := &noteWorker{ran: make(chan struct{}, 8)}
	Add(set, w)
	set.AddPeriodic(river.NewPeriodicJob(river.PeriodicInterval(200*time.Millisecond),
		func() (river.JobArgs, *river.InsertOpts) { return noteArgs{N: 1}, nil },
		&river.PeriodicJobOpts{RunOnStart: true}))
	c, err := NewWorker(d.SQL, d.Dialect, quiet, options(), set)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer stopWorker(t, c)
	waitRuns(t, w.ran, 2)
}

// waitRuns waits for n runs of a job, at most 10 seconds.
func waitRuns(t *testing.T, ran <-chan struct{}, n int) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for i := range n {
		select {
		case <-ran:
		case <-deadline:
			t.Fatalf("%d of %d job runs within 10s", i, n)
		}
	}
}

// stopWorker stops c, which must stop within 10 seconds.
func stopWorker(t *testing.T, c *Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Stop(ctx); err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("stop worker: %v", err)
	}
}
