package jobs

// The example domain's jobs: folding the click log and purging what
// expired. Delete this file with the example.

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// FoldClicksArgs asks to fold the click log into the links' counts.
type FoldClicksArgs struct{}

// Kind names the job in the queue.
func (FoldClicksArgs) Kind() string { return "fold_clicks" }

// PurgeExpiredArgs asks to delete expired links and idempotency keys.
type PurgeExpiredArgs struct{}

// Kind names the job in the queue.
func (PurgeExpiredArgs) Kind() string { return "purge_expired" }

// LinkStore is what the link jobs do their work with.
type LinkStore interface {
	// FoldClicks adds the click log to the links' counts and deletes what
	// it added, in the same transaction, counting each click once however
	// many folds run at once or are retried.
	FoldClicks(ctx context.Context) (clicks int64, err error)
	// PurgeExpired deletes what expired before now.
	PurgeExpired(ctx context.Context, now time.Time) (links, keys int64, err error)
}

type foldClicks struct {
	river.WorkerDefaults[FoldClicksArgs]
	store LinkStore
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
	store LinkStore
	log   *slog.Logger
}

func (w *purgeExpired) Work(ctx context.Context, job *river.Job[PurgeExpiredArgs]) error {
	links, keys, err := w.store.PurgeExpired(ctx, time.Now())
	if err != nil {
		return fmt.Errorf("purge expired: %w", err)
	}
	w.log.InfoContext(ctx, "purged expired rows", "links", links, "idempotency_keys", keys, "job_id", job.ID)
	return nil
}

// AddLinkJobs adds the link shortener's jobs to set: the fold of the click
// log, and the purge of what expired, every purgeInterval.
func AddLinkJobs(set *Set, store LinkStore, log *slog.Logger, purgeInterval time.Duration) {
	Add(set, &foldClicks{store: store, log: log})
	Add(set, &purgeExpired{store: store, log: log})
	// Unique per interval: River's leader alone schedules periodic jobs,
	// and when leadership moves the new leader schedules at once; the
	// uniqueness keeps that from purging twice in one interval.
	purge := river.NewPeriodicJob(river.PeriodicInterval(purgeInterval),
		func() (river.JobArgs, *river.InsertOpts) {
			return PurgeExpiredArgs{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: purgeInterval}}
		},
		&river.PeriodicJobOpts{RunOnStart: true})
	set.AddPeriodic(purge)
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
func EnqueueFoldTx(ctx context.Context, c *Client, tx *sql.Tx) error {
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
