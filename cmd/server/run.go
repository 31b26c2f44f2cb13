package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/go-chi/httprate"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/dozen-go/dozen/internal/buildinfo"
	"github.com/dozen-go/dozen/internal/config"
	"github.com/dozen-go/dozen/internal/database"
	"github.com/dozen-go/dozen/internal/health"
	"github.com/dozen-go/dozen/internal/httpapi"
	"github.com/dozen-go/dozen/internal/jobs"
	"github.com/dozen-go/dozen/internal/links"
	"github.com/dozen-go/dozen/internal/logging"
	"github.com/dozen-go/dozen/internal/redis"
	"github.com/dozen-go/dozen/internal/startup"
	"github.com/dozen-go/dozen/internal/store"
	"github.com/dozen-go/dozen/internal/tracing"
)

// run wires the web process together, serves until ctx ends or a stop
// signal arrives, and shuts down. It returns an error when the service
// could not start or did not drain cleanly.
func run(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stdout io.Writer) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected arguments %q: all settings come from the environment", args)
	}

	// Registered before anything can fail slowly, so that a stop signal
	// during start-up is seen, and kept until run returns, so that repeated
	// signals (Heroku sends several) never fall through to the default
	// action of killing the process mid-drain.
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGTERM, os.Interrupt)
	defer func() {
		signal.Stop(signals)
		close(signals) // safe once Stop returns; ends ignoreRepeats
	}()

	cfg, err := config.Load(lookupEnv)
	if err != nil {
		return err
	}

	log, flush := logging.New(stdout, cfg.Log)
	defer func() { _ = flush() }() // a failed last write to stdout has nowhere to go
	build := buildinfo.Read()
	log.Info("starting", "version", build.Version, "revision", build.Revision, "go", build.GoVersion,
		"config", config.Effective(&cfg))

	tracer, stopTracing, err := tracing.Start(ctx, lookupEnv, log, "server")
	if err != nil {
		return err
	}
	// The spans still held are exported last, by the end of the stop's
	// budget: DRAIN_DELAY plus SHUTDOWN_TIMEOUT from the stop signal, or
	// SHUTDOWN_TIMEOUT from a failed start. A collector that is down then
	// costs nothing past the budget.
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

	// Waiting for a database that is still coming up can take a while; a
	// stop signal meanwhile ends the wait instead of being left for later.
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
	checks := []health.Check{{Name: db.Dialect, Required: true, Probe: db.Ping}}

	var rdb *redis.Client // nil without REDIS_URL
	if cfg.Redis.URL.IsSet() {
		conn, err := redis.Open(cfg.Redis.URL, cfg.Redis.TLSSkipVerify)
		if err != nil {
			return err
		}
		rdb = conn.WithKeyPrefix(cfg.Redis.KeyPrefix)
		defer rdb.Close()
		// Optional: an outage is logged and reported, never fatal.
		checks = append(checks, health.Check{Name: "redis", Required: false, Probe: rdb.Ping})
		log.Info("redis attached", "url", cfg.Redis.URL, "key_prefix", cfg.Redis.KeyPrefix)
	} else {
		log.Info("no REDIS_URL: caches and rate-limit counters are in-process, not shared between replicas")
	}

	// example: the link shortener's dependencies, down to "end of example".
	// The redirect cache and the rate-limit counter are shared by every
	// replica through Redis if attached, else in-process.
	cache := httpapi.NewMemoryLinkCache(cfg.Links.CacheTTL)
	var counter httprate.LimitCounter // nil: httprate's in-process counter
	if rdb != nil {
		cache = httpapi.NewLinkCache(rdb, cfg.Links.CacheTTL, log)
		counter = httpapi.NewLimitCounter(rdb, log)
	}
	// Jobs are only enqueued here, in the transaction of the write they
	// belong to; the worker process runs them.
	queue, err := jobs.NewInserter(db.SQL, db.Dialect, log)
	if err != nil {
		return err
	}
	st := store.New(db.SQL).WithClickJobs(func(ctx context.Context, tx *sql.Tx) error { return jobs.EnqueueFoldTx(ctx, queue, tx) })
	clicks := links.NewClicks(st, log, cfg.Links.ClickFlushInterval)
	clicksCtx, stopClicks := context.WithCancel(context.WithoutCancel(ctx))
	clicksDone := make(chan struct{})
	go func() { clicks.Run(clicksCtx); close(clicksDone) }()
	defer func() {
		// After the HTTP server has drained: the last redirects' clicks
		// are flushed before the database closes.
		stopClicks()
		<-clicksDone
	}()
	if len(cfg.Links.APITokens) == 0 {
		log.Warn("no API_TOKENS: creating and deleting links is refused")
	}
	linkDeps := httpapi.LinkDeps{
		Config:      cfg.Links,
		Store:       st,
		Cache:       cache,
		Clicks:      clicks,
		CreateLimit: httpapi.NewRateLimit(log, cfg.Links.CreateRateLimit, cfg.Links.RateLimitWindow, counter),
		Now:         time.Now,
	}
	// end of example

	checker := health.NewChecker(log, cfg.Ready.Timeout, cfg.Ready.CacheTTL, checks...)

	// Request contexts derive from base, so cancelling it tells handlers
	// still running when the shutdown timeout ends to give up.
	base, cancelBase := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelBase()
	errorLog := slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	public := &http.Server{
		Handler: httpapi.NewServer(httpapi.Deps{
			Config: cfg.HTTP, Log: log, Metrics: reg, Health: checker, Build: build, Tracer: tracer,
			Links: linkDeps, // example
		}),
		ReadHeaderTimeout: cfg.HTTP.ReadHeaderTimeout,
		ReadTimeout:       cfg.HTTP.ReadTimeout,
		WriteTimeout:      cfg.HTTP.WriteTimeout,
		IdleTimeout:       cfg.HTTP.IdleTimeout,
		MaxHeaderBytes:    cfg.HTTP.MaxHeaderBytes,
		ErrorLog:          errorLog,
		BaseContext:       func(net.Listener) context.Context { return base },
	}
	admin := &http.Server{
		Handler:           httpapi.NewAdminHandler(reg, log, checker),
		ReadHeaderTimeout: cfg.HTTP.ReadHeaderTimeout,
		IdleTimeout:       cfg.HTTP.IdleTimeout,
		ErrorLog:          errorLog,
	}

	publicLn, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(cfg.Port)))
	if err != nil {
		return fmt.Errorf("listen on PORT: %w", err)
	}
	adminLn, err := net.Listen("tcp", cfg.AdminAddr)
	if err != nil {
		publicLn.Close()
		return fmt.Errorf("listen on ADMIN_ADDR: %w", err)
	}

	serveErr := make(chan error, 2) // receives a server's failure, if any
	var serving sync.WaitGroup
	for srv, ln := range map[*http.Server]net.Listener{public: publicLn, admin: adminLn} {
		serving.Go(func() {
			if err := serve(srv, ln); err != nil {
				serveErr <- err
			}
		})
	}
	log.Info("listening", "addr", publicLn.Addr().String(), "admin_addr", adminLn.Addr().String())

	var sig os.Signal
	select {
	case sig = <-signals:
		log.Info("stop signal received; draining", "signal", sig.String(), "drain_delay", cfg.Shutdown.DrainDelay)
	case <-ctx.Done():
		log.Info("context done; draining", "drain_delay", cfg.Shutdown.DrainDelay)
	case err := <-serveErr:
		_ = public.Close() // both stop: the process is failing anyway
		_ = admin.Close()
		serving.Wait()
		return fmt.Errorf("serve: %w", err)
	}
	go ignoreRepeats(log, signals)
	flushBy = time.Now().Add(cfg.Shutdown.Timeout)
	if sig != os.Interrupt {
		flushBy = flushBy.Add(cfg.Shutdown.DrainDelay) // see drain
	}

	err = drain(log, cfg.Shutdown, sig, checker, public, admin, cancelBase)
	serving.Wait()
	return err
}

// serve runs srv on ln until it is shut down.
func serve(srv *http.Server, ln net.Listener) error {
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// drain stops the servers gracefully (factor IX): readiness fails first so
// load balancers stop routing here, in-flight requests finish, and only
// what outlives the timeout is cut off.
func drain(log *slog.Logger, cfg config.Shutdown, sig os.Signal, checker *health.Checker,
	public, admin *http.Server, cancelRequests context.CancelFunc) error {
	checker.Shutdown()

	// A person at a terminal presses Ctrl-C and wants the prompt back; a
	// platform sends SIGTERM and is still routing requests here for a
	// moment. Only the latter needs the drain delay.
	if sig != os.Interrupt {
		time.Sleep(cfg.DrainDelay)
	}
	log.Info("shutting down", "timeout", cfg.Timeout)

	ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
	defer cancel()
	var drainErr error
	if err := public.Shutdown(ctx); err != nil {
		cancelRequests()
		public.Close()
		drainErr = fmt.Errorf("requests still running after SHUTDOWN_TIMEOUT (%s) were cut off", cfg.Timeout)
		log.Error("shutdown timed out", "error", drainErr.Error())
	}
	// Metrics stay scrapable until the public server has drained.
	if err := admin.Shutdown(ctx); err != nil {
		admin.Close()
	}
	if drainErr == nil {
		log.Info("stopped")
	}
	return drainErr
}

// ignoreRepeats logs and drops stop signals that arrive during the drain.
func ignoreRepeats(log *slog.Logger, signals <-chan os.Signal) {
	for sig := range signals {
		log.Info("already shutting down; signal ignored", "signal", sig.String())
	}
}
