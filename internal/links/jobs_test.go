package links

import (
	"context"
	"database/sql"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dozen-go/dozen/internal/database"
	"github.com/dozen-go/dozen/internal/jobs"
	"github.com/dozen-go/dozen/internal/store"
	"github.com/dozen-go/dozen/migrations"
)

// newLinkWorker returns a worker of the link jobs over st.
func newLinkWorker(d *database.DB, st JobStore, o jobs.Options, purge time.Duration) (*jobs.Client, error) {
	set := jobs.NewSet()
	addJobs(set, st, quietLog, purge)
	return jobs.NewWorker(d.SQL, d.Dialect, quietLog, o, set)
}

// TestClicksFoldedExactly records a burst of clicks through the web
// process's path (batched appends that enqueue the fold in the same
// transaction) and checks that the worker folds them into exact counts.
func TestClicksFoldedExactly(t *testing.T) {
	for _, d := range databases(t) {
		t.Run(d.Dialect, func(t *testing.T) {
			ins, err := jobs.NewInserter(d.SQL, d.Dialect, quietLog, nil)
			if err != nil {
				t.Fatal(err)
			}
			web := NewStore(store.New(d.SQL)).WithClickJobs(func(ctx context.Context, tx *sql.Tx) error { return EnqueueFoldTx(ctx, ins, tx) })
			l, err := web.CreateLink(t.Context(), Link{Code: "burst", URL: "https://example.com", CreatedAt: time.Now()}, nil)
			if err != nil {
				t.Fatal(err)
			}
			clicks := NewClicks(web, quietLog, 20*time.Millisecond, nil)
			ctx, stop := context.WithCancel(t.Context())
			done := make(chan struct{})
			go func() { clicks.Run(ctx); close(done) }()
			for range 1000 {
				clicks.Record(t.Context(), l.ID)
			}
			time.Sleep(50 * time.Millisecond)
			for range 500 {
				clicks.Record(t.Context(), l.ID)
			}
			stop()
			<-done

			reg := prometheus.NewRegistry()
			m := jobs.NewMetrics(reg, d.SQL, quietLog)
			w, err := newLinkWorker(d, NewStore(store.New(d.SQL)), options(), time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			obsCtx, stopObs := context.WithCancel(t.Context())
			obsDone := make(chan struct{})
			go func() { m.Observe(obsCtx, w); close(obsDone) }()
			if err := w.Start(t.Context()); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(10 * time.Second)
			for {
				got, err := web.Link(t.Context(), "burst")
				if err != nil {
					t.Fatal(err)
				}
				if got.Clicks == 1500 {
					break
				}
				if got.Clicks > 1500 || time.Now().After(deadline) {
					t.Fatalf("clicks = %d, want exactly 1500", got.Clicks)
				}
				time.Sleep(20 * time.Millisecond)
			}
			stopWorker(t, w)
			stopObs()
			<-obsDone
			if n := completed(t, reg, "fold_clicks"); n < 1 {
				t.Errorf("jobs_total{fold_clicks,completed} = %v, want at least 1", n)
			}
		})
	}
}

// purgeLog records purges across workers.
type purgeLog struct {
	mu    sync.Mutex
	times []time.Time
	by    map[int]int
}

func (l *purgeLog) snapshot() ([]time.Time, map[int]int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.times), maps.Clone(l.by)
}

// countingStore is one worker's Store, logging its purges.
type countingStore struct {
	JobStore
	id  int
	log *purgeLog
}

func (s *countingStore) PurgeExpired(ctx context.Context, now time.Time) (int64, error) {
	s.log.mu.Lock()
	s.log.times = append(s.log.times, time.Now())
	s.log.by[s.id]++
	s.log.mu.Unlock()
	return s.JobStore.PurgeExpired(ctx, now)
}

// TestPurgeRunsOncePerInterval runs two workers on one database: however
// leadership moves between them, the purge runs at most once per interval
// (River's leader schedules it, and its insert is unique per interval).
// Two schedulers without that would purge about twice per interval.
func TestPurgeRunsOncePerInterval(t *testing.T) {
	for _, d := range databases(t) {
		t.Run(d.Dialect, func(t *testing.T) {
			const interval = time.Second // the shortest period River makes unique
			o := options()
			log := &purgeLog{by: map[int]int{}}
			var clients []*jobs.Client
			for i := range 2 {
				c, err := newLinkWorker(d, &countingStore{JobStore: NewStore(store.New(d.SQL)), id: i, log: log}, o, interval)
				if err != nil {
					t.Fatal(err)
				}
				if err := c.Start(t.Context()); err != nil {
					t.Fatal(err)
				}
				clients = append(clients, c)
			}
			// A leader is elected first, which can take a few seconds on a
			// busy machine; the window starts at the first purge.
			var first time.Time
			for deadline := time.Now().Add(30 * time.Second); first.IsZero(); time.Sleep(20 * time.Millisecond) {
				if times, _ := log.snapshot(); len(times) > 0 {
					first = times[0]
				} else if time.Now().After(deadline) {
					t.Fatal("no purge within 30s")
				}
			}
			time.Sleep(4 * time.Second)
			for _, c := range clients {
				stopWorker(t, c)
			}
			times, by := log.snapshot()
			window := times[len(times)-1].Sub(first)
			// n purges one interval apart span n-1 intervals; allow the
			// scheduler a fifth of an interval of jitter per tick.
			most := int(window/(interval*4/5)) + 1
			t.Logf("purges by worker: %v, %d in %v", by, len(times), window.Round(time.Millisecond))
			if len(times) > most {
				t.Errorf("%d purges in %v at a %v interval, want at most %d: some interval purged twice", len(times), window, interval, most)
			}
		})
	}
}

// blockingStore's folds wait until released or cancelled.
type blockingStore struct {
	JobStore
	started chan struct{}
	release chan struct{}
	folds   atomic.Int32
}

func (s *blockingStore) FoldClicks(ctx context.Context) (int64, error) {
	s.started <- struct{}{}
	select {
	case <-s.release:
		s.folds.Add(1)
		return s.JobStore.FoldClicks(ctx)
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// TestCutOffJobIsRetried stops a worker while a job runs and cannot finish
// in time: the job is cancelled, not marked done, and the next worker runs
// it to completion.
func TestCutOffJobIsRetried(t *testing.T) {
	for _, d := range databases(t) {
		t.Run(d.Dialect, func(t *testing.T) {
			ins, err := jobs.NewInserter(d.SQL, d.Dialect, quietLog, nil)
			if err != nil {
				t.Fatal(err)
			}
			web := NewStore(store.New(d.SQL)).WithClickJobs(func(ctx context.Context, tx *sql.Tx) error { return EnqueueFoldTx(ctx, ins, tx) })
			l, err := web.CreateLink(t.Context(), Link{Code: "cutoff", URL: "https://example.com", CreatedAt: time.Now()}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := web.AppendClicks(t.Context(), NewClickBatch(map[int64]int64{l.ID: 7}, time.Now())); err != nil {
				t.Fatal(err)
			}

			o := options()
			o.JobTimeout = time.Minute
			blocked := &blockingStore{JobStore: NewStore(store.New(d.SQL)), started: make(chan struct{}, 10), release: make(chan struct{})}
			first, err := newLinkWorker(d, blocked, o, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if err := first.Start(t.Context()); err != nil {
				t.Fatal(err)
			}
			select {
			case <-blocked.started:
			case <-time.After(10 * time.Second):
				t.Fatal("the fold job never started")
			}
			// The graceful stop runs out of time; the job is cancelled.
			soft, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			err = first.Stop(soft)
			cancel()
			if err == nil {
				t.Fatal("Stop() = nil with a job still running, want a timeout")
			}
			hard, cancel := context.WithTimeout(context.Background(), jobs.CancelGrace)
			if err := first.StopAndCancel(hard); err != nil {
				t.Fatalf("StopAndCancel() = %v", err)
			}
			cancel()
			if got, _ := web.Link(t.Context(), "cutoff"); got.Clicks != 0 {
				t.Fatalf("clicks after the cut-off = %d, want 0: nothing half-done", got.Clicks)
			}

			// A retried job is scheduled with a backoff; the next worker
			// must find it. River's first retry comes after about a second.
			second, err := newLinkWorker(d, NewStore(store.New(d.SQL)), o, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if err := second.Start(t.Context()); err != nil {
				t.Fatal(err)
			}
			defer stopWorker(t, second)
			deadline := time.Now().Add(20 * time.Second)
			for {
				got, err := web.Link(t.Context(), "cutoff")
				if err != nil {
					t.Fatal(err)
				}
				if got.Clicks == 7 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("clicks = %d 20s after the retry began, want 7", got.Clicks)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}

// TestKilledWorkersJobIsRescued leaves a fold job as a killed worker
// leaves it: marked running by a worker that is gone. Another worker
// returns it to the queue and runs it, because it has been running for
// longer than rescueAfter (the job timeout and jobs.CancelGrace), where River's
// default would leave it for the job timeout and an hour more.
func TestKilledWorkersJobIsRescued(t *testing.T) {
	for _, d := range databases(t) {
		t.Run(d.Dialect, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			o := options()
			o.JobTimeout = time.Second
			ins, err := jobs.NewInserter(d.SQL, d.Dialect, quietLog, nil)
			if err != nil {
				t.Fatal(err)
			}
			web := NewStore(store.New(d.SQL)).WithClickJobs(func(ctx context.Context, tx *sql.Tx) error { return EnqueueFoldTx(ctx, ins, tx) })
			l, err := web.CreateLink(ctx, Link{Code: "rescued", URL: "https://example.com", CreatedAt: time.Now()}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := web.AppendClicks(ctx, NewClickBatch(map[int64]int64{l.ID: 3}, time.Now())); err != nil {
				t.Fatal(err)
			}
			// The worker that took the fold was killed a second after it
			// became rescuable, and nothing recorded the end of its run.
			diedAt := time.Now().Add(-(o.JobTimeout + jobs.CancelGrace) - time.Second).UTC() // the rescuer waits the timeout and the grace
			var at any = diedAt
			if d.Dialect == migrations.SQLite {
				at = diedAt.Format("2006-01-02 15:04:05.000") // River's SQLite time format
			}
			res, err := d.SQL.ExecContext(ctx,
				`UPDATE river_job SET state = 'running', attempt = 1, attempted_at = $1 WHERE kind = 'fold_clicks'`, at)
			if err != nil {
				t.Fatal(err)
			}
			if n, _ := res.RowsAffected(); n != 1 {
				t.Fatalf("%d fold jobs marked running, want 1", n)
			}

			w, err := newLinkWorker(d, NewStore(store.New(d.SQL)), o, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			started := time.Now()
			if err := w.Start(ctx); err != nil {
				t.Fatal(err)
			}
			defer stopWorker(t, w)
			// The rescuer runs as the worker becomes leader; the rescued job
			// waits out its retry delay (1s) and the scheduler's next pass (5s).
			for deadline := started.Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				got, err := web.Link(ctx, "rescued")
				if err != nil {
					t.Fatal(err)
				}
				if got.Clicks == 3 {
					t.Logf("the killed worker's fold ran %v after a new worker started", time.Since(started).Round(time.Millisecond))
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("clicks = %d 20s after a new worker started, want 3: the killed worker's fold was not rescued", got.Clicks)
				}
			}
		})
	}
}

// completed reads jobs_total{kind, outcome="completed"} from reg.
func completed(t *testing.T, reg *prometheus.Registry, kind string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "jobs_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["kind"] == kind && labels["outcome"] == "completed" {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}
