// Package jobs runs the service's background jobs on River, a job queue
// kept in the service's own SQL database: Postgres, or the embedded
// SQLite file. Jobs are enqueued in the same transaction as the write they
// belong to, so a job exists if and only if its data does. River's tables
// come in through the golang-migrate migrations, like every other table.
package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/dozen-go/dozen/migrations"
)

// Client is a River client over database/sql, for either dialect.
type Client = river.Client[*sql.Tx]

// FoldClicksArgs asks to fold the click log into the links' counts.
type FoldClicksArgs struct{}

// Kind names the job in the queue.
func (FoldClicksArgs) Kind() string { return "fold_clicks" }

// InsertOpts makes the job unique per second: each web process enqueues
// one with every click flush, and one run per second folds them all.
func (FoldClicksArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: time.Second}}
}

// PurgeExpiredArgs asks to delete expired links and idempotency keys.
type PurgeExpiredArgs struct{}

// Kind names the job in the queue.
func (PurgeExpiredArgs) Kind() string { return "purge_expired" }

// Store is what the jobs do their work with.
type Store interface {
	// FoldClicks adds the click log to the links' counts and empties the
	// log, in one transaction, so that a retried run counts nothing twice.
	FoldClicks(ctx context.Context) (clicks int64, err error)
	// PurgeExpired deletes what expired before now.
	PurgeExpired(ctx context.Context, now time.Time) (links, keys int64, err error)
}

type foldClicks struct {
	river.WorkerDefaults[FoldClicksArgs]
	store Store
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
	store Store
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

// Options configures a worker client.
type Options struct {
	// Workers is how many jobs run at once in this process.
	Workers int
	// PurgeInterval is how often the expired rows are purged. However many
	// worker processes run, one at a time runs it: River runs periodic
	// jobs only on its elected leader.
	PurgeInterval time.Duration
	// JobTimeout cancels a job that runs longer.
	JobTimeout time.Duration
	// PollInterval is how often the queue is polled for new jobs.
	PollInterval time.Duration
}

// driver returns River's driver for the dialect.
func driver(db *sql.DB, dialect string) (riverdriver.Driver[*sql.Tx], error) {
	switch dialect {
	case migrations.Postgres:
		return riverdatabasesql.New(db), nil
	case migrations.SQLite:
		return riversqlite.New(db), nil
	}
	return nil, fmt.Errorf("jobs: unknown SQL dialect %q", dialect)
}

// NewInserter returns a client that only enqueues jobs, for processes
// that do not work them, such as the web process.
func NewInserter(db *sql.DB, dialect string, log *slog.Logger) (*Client, error) {
	drv, err := driver(db, dialect)
	if err != nil {
		return nil, err
	}
	c, err := river.NewClient(drv, &river.Config{Logger: log})
	if err != nil {
		return nil, fmt.Errorf("jobs: new inserter: %w", err)
	}
	return c, nil
}

// NewWorker returns a client that works the service's jobs. Start it with
// Start and stop it with Stop.
func NewWorker(db *sql.DB, dialect string, store Store, log *slog.Logger, o Options) (*Client, error) {
	drv, err := driver(db, dialect)
	if err != nil {
		return nil, err
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &foldClicks{store: store, log: log})
	river.AddWorker(workers, &purgeExpired{store: store, log: log})
	c, err := river.NewClient(drv, &river.Config{
		Logger:            log,
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: max(o.Workers, 1)}},
		Workers:           workers,
		JobTimeout:        o.JobTimeout,
		FetchPollInterval: o.PollInterval,
		// Without LISTEN/NOTIFY (database/sql and SQLite have none), the
		// fetch cooldown is the floor of the poll interval.
		FetchCooldown: min(o.PollInterval, 100*time.Millisecond),
		PeriodicJobs: []*river.PeriodicJob{
			// Unique per interval: River's leader alone schedules periodic
			// jobs, and when leadership moves the new leader schedules at
			// once; the uniqueness keeps that from purging twice in one
			// interval.
			river.NewPeriodicJob(river.PeriodicInterval(o.PurgeInterval),
				func() (river.JobArgs, *river.InsertOpts) {
					return PurgeExpiredArgs{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: o.PurgeInterval}}
				},
				&river.PeriodicJobOpts{RunOnStart: true}),
		},
	})
	if err != nil {
		return nil, fmt.Errorf("jobs: new worker: %w", err)
	}
	return c, nil
}

// EnqueueFoldTx enqueues the fold of the click log in tx.
func EnqueueFoldTx(ctx context.Context, c *Client, tx *sql.Tx) error {
	if _, err := c.InsertTx(ctx, tx, FoldClicksArgs{}, nil); err != nil {
		return fmt.Errorf("enqueue fold clicks: %w", err)
	}
	return nil
}

// CancelGrace is how long cancelled jobs get to return and be recorded
// for retry before a stopping worker gives up on them. Jobs it gives up
// on stay marked running until River's rescuer returns them to the queue.
const CancelGrace = 5 * time.Second
