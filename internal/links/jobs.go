package links

// The link shortener's jobs, which the worker process runs: the fold of
// the click log into the links' counts, and the purge of expired links.

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/dozen-go/dozen/internal/jobs"
	"github.com/dozen-go/dozen/internal/store"
)

// FoldClicksArgs asks to fold the click log into the links' counts.
type FoldClicksArgs struct{}

// Kind names the job in the queue.
func (FoldClicksArgs) Kind() string { return "fold_clicks" }

// PurgeExpiredArgs asks to delete expired links.
type PurgeExpiredArgs struct{}

// Kind names the job in the queue.
func (PurgeExpiredArgs) Kind() string { return "purge_expired" }

// JobStore is what the link jobs do their work with: a *Store.
type JobStore interface {
	// FoldClicks adds the click log to the links' counts and deletes what
	// it added, in the same transaction, counting each click once however
	// many folds run at once or are retried.
	FoldClicks(ctx context.Context) (clicks int64, err error)
	// PurgeExpired deletes the links that expired before now.
	PurgeExpired(ctx context.Context, now time.Time) (links int64, err error)
}

type foldClicks struct {
	river.WorkerDefaults[FoldClicksArgs]
	store JobStore
	log   *slog.Logger
}

func (w *foldClicks) Work(ctx context.Context, job *river.Job[FoldClicksArgs]) error {
	n, err := w.store.FoldClicks(ctx)
	if err != nil {
		return fmt.Errorf("fold clicks: %w", err)
	}
	w.log.DebugContext(ctx, "folded clicks", "clicks", n, "job_id", job.ID)
	return nil
}

type purgeExpired struct {
	river.WorkerDefaults[PurgeExpiredArgs]
	store JobStore
	log   *slog.Logger
}

func (w *purgeExpired) Work(ctx context.Context, job *river.Job[PurgeExpiredArgs]) error {
	links, err := w.store.PurgeExpired(ctx, time.Now())
	if err != nil {
		return fmt.Errorf("purge expired: %w", err)
	}
	w.log.InfoContext(ctx, "purged expired links", "links", links, "job_id", job.ID)
	return nil
}

// AddJobs adds the link shortener's jobs to set: the fold of the click
// log, and the purge of expired links every purgeInterval. cmd/worker
// calls it with the service's store.
func AddJobs(set *jobs.Set, st *store.Store, log *slog.Logger, purgeInterval time.Duration) {
	addJobs(set, NewStore(st), log, purgeInterval)
}

// addJobs adds the jobs working with st.
func addJobs(set *jobs.Set, st JobStore, log *slog.Logger, purgeInterval time.Duration) {
	jobs.Add(set, &foldClicks{store: st, log: log})
	jobs.Add(set, &purgeExpired{store: st, log: log})
	set.AddPeriodic(jobs.NewPurge(purgeInterval, PurgeExpiredArgs{}))
}

// foldDelay is how long after the end of its second a fold job runs: how
// far apart the clocks of web and worker machines may be.
const foldDelay = 500 * time.Millisecond

// EnqueueFoldTx enqueues the fold of the click log in tx.
//
// The flushes of one second share one job, which runs after that second
// ends (once River's scheduler makes it available). A flush must never be
// merged into a job that has started or finished: that job may have read
// the log before the flush, and the flush's clicks would wait, unfolded,
// for the next one. So the job is unique per second of its run time,
// among jobs not finished (River's default counts completed ones too).
func EnqueueFoldTx(ctx context.Context, c *jobs.Client, tx *sql.Tx) error {
	opts := &river.InsertOpts{
		ScheduledAt: time.Now().Truncate(time.Second).Add(time.Second + foldDelay),
		UniqueOpts: river.UniqueOpts{ByPeriod: time.Second, ByState: []rivertype.JobState{
			rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
			rivertype.JobStateRunning, rivertype.JobStateScheduled,
		}},
	}
	if _, err := c.InsertTx(ctx, tx, FoldClicksArgs{}, opts); err != nil {
		return fmt.Errorf("enqueue fold clicks: %w", err)
	}
	return nil
}
