package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/dozen-go/dozen/internal/buildinfo"
	"github.com/dozen-go/dozen/internal/config"
	"github.com/dozen-go/dozen/internal/database"
	"github.com/dozen-go/dozen/internal/health"
	"github.com/dozen-go/dozen/internal/httpapi"
	"github.com/dozen-go/dozen/internal/jobs"
	"github.com/dozen-go/dozen/internal/logging"
	"github.com/dozen-go/dozen/internal/startup"
	"github.com/dozen-go/dozen/internal/store"
	"github.com/dozen-go/dozen/internal/tracing"
)

// run wires the worker together, works jobs until ctx ends or a stop signal
// arrives, and stops: no new jobs are taken, running ones get
// SHUTDOWN_TIMEOUT to finish, and any still running then are cancelled and
// left for a retry. It returns an error when the worker could not start or
// had to cut jobs off.
func run(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stdout io.Writer) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected arguments %q: all settings come from the environment", args)
	}
	// See cmd/server: registered first, kept until run returns.
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGTERM, os.Interrupt)
	defer func() {
		signal.Stop(signals)
		close(signals)
	}()

	cfg, err := config.Load(lookupEnv)
	if err != nil {
		return err
	}
	log, flush := logging.New(stdout, cfg.Log)
	defer func() { _ = flush() }() // a failed last write to stdout has nowhere to go
	build := buildinfo.Read()
	log.Info("starting worker", "version", build.Version, "revision", build.Revision, "go", build.GoVersion)

	_, stopTracing, err := tracing.Start(ctx, lookupEnv, log, "worker")
	if err != nil {
		return err
	}
	// The spans still held are exported last, by the end of the stop's
	// budget: SHUTDOWN_TIMEOUT from the stop signal, or from a failed
	// start. A collector that is down then costs nothing past the budget.
	flushBy := time.Now().Add(cfg.Shutdown.Timeout)
	defer func() {
		ctx, cancel := context.WithDeadline(context.Background(), flushBy)
		defer cancel()
		if err := stopTracing(ctx); err != nil {
			log.Warn("tracing: spans left unexported at exit", "error", err.Error())
		}
	}()

	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector(),
	)

	// See cmd/server: a stop signal ends the wait for the database.
	startCtx, interrupted := startup.Interruptible(ctx, signals)
	db, err := database.OpenChecked(startCtx, cfg.Database, log)
	if sig := interrupted(); sig != nil {
		if err == nil {
			db.Close()
		}
		return fmt.Errorf("stopped by %s during start-up", sig)
	}
	if err != nil {
		return err
	}
	defer db.Close()
	if c := db.Collector(); c != nil {
		reg.MustRegister(c)
	}
	checker := health.NewChecker(log, cfg.Ready.Timeout, cfg.Ready.CacheTTL,
		health.Check{Name: db.Dialect, Required: true, Probe: db.Ping})

	// The service's jobs: register each kind with jobs.Add.
	set := jobs.NewSet()
	jobs.AddLinkJobs(set, store.New(db.SQL), log, cfg.Worker.PurgeInterval) // example
	var client *jobs.Client                                                 // nil: no jobs, the process idles until stopped
	if set.Empty() {
		log.Warn("no jobs registered in cmd/worker/run.go: the worker idles")
	} else {
		client, err = jobs.NewWorker(db.SQL, db.Dialect, log, jobs.Options{
			Workers:      cfg.Worker.Concurrency,
			JobTimeout:   cfg.Worker.JobTimeout,
			PollInterval: cfg.Worker.PollInterval,
		}, set)
		if err != nil {
			return err
		}
		metrics := jobs.NewMetrics(reg, db.SQL, log)
		observeCtx, stopObserving := context.WithCancel(context.WithoutCancel(ctx))
		observed := make(chan struct{})
		go func() { metrics.Observe(observeCtx, client); close(observed) }()
		defer func() { stopObserving(); <-observed }()
	}

	admin := &http.Server{
		Handler:           httpapi.NewAdminHandler(reg, log, checker),
		ReadHeaderTimeout: cfg.HTTP.ReadHeaderTimeout,
		IdleTimeout:       cfg.HTTP.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	adminLn, err := net.Listen("tcp", cfg.AdminAddr)
	if err != nil {
		return fmt.Errorf("listen on ADMIN_ADDR: %w", err)
	}
	serveErr := make(chan error, 1) // receives the admin server's failure, if any
	served := make(chan struct{})
	go func() {
		if err := admin.Serve(adminLn); !errors.Is(err, http.ErrServerClosed) {
			serveErr <- err
		}
		close(served)
	}()
	defer func() {
		// Last, so metrics stay scrapable while jobs finish.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := admin.Shutdown(ctx); err != nil {
			_ = admin.Close() // cut off what did not finish; nothing more to do
		}
		<-served
	}()

	// Jobs run in contexts of their own: the client's Stop, not ctx,
	// decides when they end.
	if client != nil {
		if err := client.Start(context.WithoutCancel(ctx)); err != nil {
			return fmt.Errorf("start worker: %w", err)
		}
	}
	log.Info("working", "admin_addr", adminLn.Addr().String(), "concurrency", cfg.Worker.Concurrency)

	select {
	case sig := <-signals:
		log.Info("stop signal received; finishing running jobs", "signal", sig.String(), "timeout", cfg.Shutdown.Timeout)
	case <-ctx.Done():
		log.Info("context done; finishing running jobs", "timeout", cfg.Shutdown.Timeout)
	case err := <-serveErr:
		stopNow(log, client)
		return fmt.Errorf("serve admin: %w", err)
	}
	go func() {
		for sig := range signals {
			log.Info("already stopping; signal ignored", "signal", sig.String())
		}
	}()
	checker.Shutdown()
	flushBy = time.Now().Add(cfg.Shutdown.Timeout)

	if client == nil {
		log.Info("stopped")
		return nil
	}
	stopCtx, cancel := context.WithTimeout(context.Background(), cfg.Shutdown.Timeout)
	defer cancel()
	if err := client.Stop(stopCtx); err != nil {
		stopNow(log, client)
		return fmt.Errorf("jobs still running after SHUTDOWN_TIMEOUT (%s) were cancelled; they will be retried", cfg.Shutdown.Timeout)
	}
	log.Info("stopped")
	return nil
}

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
