package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"

	"github.com/dozen-go/dozen/internal/health"
	"github.com/dozen-go/dozen/internal/jobs"
	"github.com/dozen-go/dozen/internal/links"
	"github.com/dozen-go/dozen/internal/postgres"
	"github.com/dozen-go/dozen/internal/process"
	"github.com/dozen-go/dozen/internal/store"
)

// run wires the worker together, works jobs until ctx ends or a stop signal
// arrives, and stops: no new jobs are taken, running ones get
// SHUTDOWN_TIMEOUT to finish, and any still running then are cancelled and
// left for a retry. It returns an error when the worker could not start or
// had to cut jobs off.
func run(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stdout io.Writer) error {
	p, err := process.Start(ctx, "worker", args, lookupEnv, stdout)
	if err != nil {
		return err
	}
	defer p.Close()
	cfg, log, db := p.Config, p.Log, p.DB
	// Not ready until the jobs client has started: a worker that cannot
	// take jobs yet should not be counted as one that can.
	var started atomic.Bool
	checker := p.Checker(health.Check{Name: "jobs", Required: true, Probe: func(context.Context) error {
		if !started.Load() {
			return errNotStarted
		}
		return nil
	}})

	// The service's jobs: register each kind with jobs.Add, or a
	// feature's with its own function.
	st := store.New(db.SQL)
	set := jobs.NewSet()
	jobs.AddIdempotencyPurge(set, st, log, cfg.Worker.PurgeInterval)
	links.AddJobs(set, st, log, cfg.Worker.PurgeInterval) // example
	var client *jobs.Client                               // nil: no jobs, the process idles until stopped
	if set.Empty() {
		log.Warn("no jobs registered in cmd/worker/run.go: the worker idles")
	} else {
		client, err = jobs.NewWorker(db.SQL, db.Dialect, log, jobs.Options{
			Workers:      cfg.Worker.Concurrency,
			JobTimeout:   cfg.Worker.JobTimeout,
			PollInterval: cfg.Worker.PollInterval,
			Tracer:       p.Tracer,
		}, set)
		if err != nil {
			return err
		}
		metrics := jobs.NewMetrics(p.Metrics, db.SQL, log)
		observeCtx, stopObserving := context.WithCancel(context.WithoutCancel(ctx))
		observed := make(chan struct{})
		go func() { metrics.Observe(observeCtx, client); close(observed) }()
		defer func() { stopObserving(); <-observed }()
	}

	adminAddr, err := p.ServeAdmin(checker)
	if err != nil {
		return err
	}
	// Jobs run in contexts of their own: the client's Stop, not ctx,
	// decides when they end. A database that went away since the process
	// connected (a restart, a failover) is waited for as at start.
	if client != nil {
		err := postgres.Retry(ctx, cfg.Database.ConnectAttempts, log, "database unavailable while starting the worker; retrying",
			postgres.IsUnavailable, func(context.Context) error { return client.Start(context.WithoutCancel(ctx)) })
		if err != nil {
			return fmt.Errorf("start worker: %w", err)
		}
	}
	started.Store(true)
	log.Info("working", "admin_addr", adminAddr.String(), "concurrency", cfg.Worker.Concurrency)

	if _, err := p.Wait(ctx); err != nil {
		stopNow(log, client)
		return err
	}
	checker.Shutdown()
	if client == nil {
		log.Info("stopped")
		return nil
	}
	log.Info("finishing running jobs", "timeout", cfg.Shutdown.Timeout)
	stopCtx, cancel := context.WithTimeout(context.Background(), cfg.Shutdown.Timeout)
	defer cancel()
	if err := client.Stop(stopCtx); err != nil {
		stopNow(log, client)
		return fmt.Errorf("jobs still running after SHUTDOWN_TIMEOUT (%s) were cancelled; they will be retried", cfg.Shutdown.Timeout)
	}
	log.Info("stopped")
	return nil
}

// errNotStarted is the readiness of a worker whose jobs client has not
// started yet.
var errNotStarted = errors.New("jobs client not started")

// stopNow cancels the running jobs. A cancelled job is not marked done:
// it goes back to the queue and runs again.
func stopNow(log *slog.Logger, client *jobs.Client) {
	if client == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), jobs.CancelGrace)
	defer cancel()
	if err := client.StopAndCancel(ctx); err != nil {
		log.Error("jobs did not stop after cancellation; the queue will rescue them", "error", err.Error())
	}
}
