// Package jobs runs the service's background jobs on River, a job queue
// kept in the service's own SQL database: Postgres, or the embedded
// SQLite file. Jobs are enqueued in the same transaction as the write they
// belong to, so a job exists if and only if its data does. River's tables
// come from River's own migrator, which admin migrate up runs after the
// service's migrations (package schema).
package jobs

import (
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"
	"github.com/riverqueue/rivercontrib/otelriver"
	"go.opentelemetry.io/otel/trace"

	"github.com/dozen-go/dozen/migrations"
)

// Client is a River client over database/sql, for either dialect.
type Client = river.Client[*sql.Tx]

// Options configures a worker client.
type Options struct {
	// Workers is how many jobs run at once in this process.
	Workers int
	// JobTimeout cancels a job that runs longer.
	JobTimeout time.Duration
	// PollInterval is how often the queue is polled for new jobs.
	PollInterval time.Duration
	// Tracer, when not nil, traces each job run; see NewInserter.
	Tracer trace.TracerProvider
}

// newClient returns a River client on the dialect's driver.
func newClient(db *sql.DB, dialect string, cfg *river.Config) (*Client, error) {
	switch dialect {
	case migrations.Postgres:
		return river.NewClient(riverdatabasesql.New(db), cfg)
	case migrations.SQLite:
		return river.NewClient(riversqlite.New(db), cfg)
	}
	return nil, fmt.Errorf("jobs: unknown SQL dialect %q", dialect)
}

// NewInserter returns a client that only enqueues jobs, for processes
// that do not work them, such as the web process.
//
// With a tracer, each insert gets a span, and the job carries the
// inserting span's trace context in its metadata: the span of its run, in
// the worker, is linked to it. A link, not a parent: a job may run long
// after the request that enqueued it has ended, or run again.
func NewInserter(db *sql.DB, dialect string, log *slog.Logger, tracer trace.TracerProvider) (*Client, error) {
	c, err := newClient(db, dialect, &river.Config{Logger: log, Middleware: middleware(tracer)})
	if err != nil {
		return nil, fmt.Errorf("jobs: new inserter: %w", err)
	}
	return c, nil
}

// Set is the jobs a worker process runs: the workers of each kind, and the
// periodic jobs. River runs periodic jobs only on its elected leader, so
// they run on one worker process at a time however many run.
type Set struct {
	workers  *river.Workers
	periodic []*river.PeriodicJob
	kinds    int
}

// NewSet returns an empty Set.
func NewSet() *Set { return &Set{workers: river.NewWorkers()} }

// Add registers the worker of one kind of job.
func Add[T river.JobArgs](s *Set, w river.Worker[T]) {
	river.AddWorker(s.workers, w)
	s.kinds++
}

// AddPeriodic schedules periodic jobs; their kinds need workers too.
func (s *Set) AddPeriodic(jobs ...*river.PeriodicJob) { s.periodic = append(s.periodic, jobs...) }

// Empty reports whether no job is registered.
func (s *Set) Empty() bool { return s.kinds == 0 }

// NewWorker returns a client that works the jobs of set. Start it with
// Start and stop it with Stop. River refuses a worker with no jobs: check
// set.Empty first.
func NewWorker(db *sql.DB, dialect string, log *slog.Logger, o Options, set *Set) (*Client, error) {
	c, err := newClient(db, dialect, &river.Config{
		Logger:            log,
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: max(o.Workers, 1)}},
		Workers:           set.workers,
		JobTimeout:        o.JobTimeout,
		FetchPollInterval: o.PollInterval,
		// Without LISTEN/NOTIFY (database/sql and SQLite have none), the
		// fetch cooldown is the floor of the poll interval.
		FetchCooldown:        min(o.PollInterval, 100*time.Millisecond),
		PeriodicJobs:         set.periodic,
		RescueStuckJobsAfter: rescueAfter(o.JobTimeout),
		Middleware:           middleware(o.Tracer),
	})
	if err != nil {
		return nil, fmt.Errorf("jobs: new worker: %w", err)
	}
	return c, nil
}

// rescueAfter is how long a job may stay marked running before River's
// rescuer, on the elected leader, takes its worker for dead (killed, or
// its machine lost) and queues it again: its timeout, then CancelGrace to
// return and be recorded. A live worker has finished or cancelled it by
// then. River's own default waits an hour longer.
func rescueAfter(jobTimeout time.Duration) time.Duration { return jobTimeout + CancelGrace }

// CancelGrace is how long cancelled jobs get to return and be recorded
// for retry before a stopping worker gives up on them. Jobs it gives up
// on stay marked running until River's rescuer returns them to the queue.
const CancelGrace = 5 * time.Second

// middleware returns the tracing middleware for tracer, or none for nil.
func middleware(tracer trace.TracerProvider) []rivertype.Middleware {
	if tracer == nil {
		return nil
	}
	return []rivertype.Middleware{otelriver.NewMiddleware(&otelriver.MiddlewareConfig{
		TracerProvider: tracer,
		// No MeterProvider: the global one, a no-op unless a program sets
		// one, which this service does not; job metrics are Prometheus',
		// in metrics.go.
		EnableTracePropagation:      true,
		EnableWorkSpanJobKindSuffix: true,
	})}
}
