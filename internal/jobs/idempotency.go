package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
)

// PurgeIdempotencyKeysArgs asks to delete the idempotency keys that
// expired.
type PurgeIdempotencyKeysArgs struct{}

// Kind names the job in the queue.
func (PurgeIdempotencyKeysArgs) Kind() string { return "purge_idempotency_keys" }

// IdempotencyKeys is what the purge of idempotency keys deletes them
// with: a *store.Store.
type IdempotencyKeys interface {
	// PurgeIdempotencyKeys deletes the keys that expired before now.
	PurgeIdempotencyKeys(ctx context.Context, now time.Time) (int64, error)
}

type purgeIdempotencyKeys struct {
	river.WorkerDefaults[PurgeIdempotencyKeysArgs]
	keys IdempotencyKeys
	log  *slog.Logger
}

func (w *purgeIdempotencyKeys) Work(ctx context.Context, job *river.Job[PurgeIdempotencyKeysArgs]) error {
	n, err := w.keys.PurgeIdempotencyKeys(ctx, time.Now())
	if err != nil {
		return fmt.Errorf("purge idempotency keys: %w", err)
	}
	w.log.InfoContext(ctx, "purged expired idempotency keys", "idempotency_keys", n, "job_id", job.ID)
	return nil
}

// AddIdempotencyPurge adds to set the purge of expired idempotency keys,
// every interval, so that the table of keys holds only live ones. Every
// service that uses package idempotency needs it; cmd/worker adds it.
func AddIdempotencyPurge(set *Set, keys IdempotencyKeys, log *slog.Logger, interval time.Duration) {
	Add(set, &purgeIdempotencyKeys{keys: keys, log: log})
	set.AddPeriodic(NewPurge(interval, PurgeIdempotencyKeysArgs{}))
}

// NewPurge returns the periodic job that enqueues args every interval,
// at start included: a purge, which must not run twice in one interval.
// River's leader alone schedules periodic jobs, and when leadership moves
// the new leader schedules at once; uniqueness per interval keeps that
// from purging twice.
func NewPurge(interval time.Duration, args river.JobArgs) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(interval),
		func() (river.JobArgs, *river.InsertOpts) {
			return args, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: interval}}
		},
		&river.PeriodicJobOpts{RunOnStart: true})
}
