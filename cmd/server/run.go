package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/dozen-go/dozen/internal/config"
	"github.com/dozen-go/dozen/internal/health"
	"github.com/dozen-go/dozen/internal/httpapi"
	"github.com/dozen-go/dozen/internal/jobs"
	"github.com/dozen-go/dozen/internal/links"
	"github.com/dozen-go/dozen/internal/process"
	"github.com/dozen-go/dozen/internal/redis"
	"github.com/dozen-go/dozen/internal/store"
)

// run wires the web process together, serves until ctx ends or a stop
// signal arrives, and shuts down. It returns an error when the service
// could not start or did not drain cleanly.
func run(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stdout io.Writer) error {
	p, err := process.Start(ctx, "server", args, lookupEnv, stdout)
	if err != nil {
		return err
	}
	defer p.Close()
	cfg, log, db := p.Config, p.Log, p.DB
	st := store.New(db.SQL)
	// Jobs are only enqueued here, in the transaction of the write they
	// belong to (queue.InsertTx); the worker process runs them.
	queue, err := jobs.NewInserter(db.SQL, db.Dialect, log, p.Tracer)
	if err != nil {
		return err
	}
	var optional []health.Check // services with a fallback, reported but never failing readiness

	var rdb *redis.Client // nil without REDIS_URL
	if cfg.Redis.URL.IsSet() {
		conn, err := redis.Open(cfg.Redis.URL, cfg.Redis.TLSSkipVerify, p.Tracer)
		if err != nil {
			return err
		}
		rdb = conn.WithKeyPrefix(cfg.Redis.KeyPrefix)
		defer rdb.Close()
		// Optional: an outage is logged and reported, never fatal.
		optional = append(optional, health.Check{Name: "redis", Required: false, Probe: rdb.Ping})
		log.Info("redis attached", "url", cfg.Redis.URL, "key_prefix", cfg.Redis.KeyPrefix)
	} else {
		log.Info("no REDIS_URL: caches and rate-limit counters are in-process, not shared between replicas")
	}

	// The service's features, each a package of its own: their routes go
	// on the server below, and those that hold something (an io.Closer)
	// are closed after it has drained, before the database closes.
	features := []httpapi.Feature{
		links.New(links.Deps{Config: cfg, Log: log, Store: st, Jobs: queue, Redis: rdb, Tracer: p.Tracer}), // example
	}
	defer closeAll(log, features)

	checker := p.Checker(optional...)

	// Request contexts derive from base, so cancelling it tells handlers
	// still running when the shutdown timeout ends to give up.
	base, cancelBase := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelBase()
	public := &http.Server{
		Handler: httpapi.NewServer(httpapi.Deps{
			Config: cfg.HTTP, Log: log, Metrics: p.Metrics, Health: checker, Build: p.Build, Tracer: p.Tracer, Store: st, Jobs: queue,
			Features: features,
		}),
		ReadHeaderTimeout: cfg.HTTP.ReadHeaderTimeout,
		ReadTimeout:       cfg.HTTP.ReadTimeout,
		WriteTimeout:      cfg.HTTP.WriteTimeout,
		IdleTimeout:       cfg.HTTP.IdleTimeout,
		MaxHeaderBytes:    cfg.HTTP.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return base },
	}
	publicLn, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(cfg.Port)))
	if err != nil {
		return fmt.Errorf("listen on PORT: %w", err)
	}
	adminAddr, err := p.ServeAdmin(checker)
	if err != nil {
		publicLn.Close()
		return err
	}
	p.Serve("public", public, publicLn)
	log.Info("listening", "addr", publicLn.Addr().String(), "admin_addr", adminAddr.String())

	sig, err := p.Wait(ctx)
	if err != nil {
		_ = public.Close() // the process is failing anyway
		return err
	}
	return drain(log, cfg.Shutdown, sig, checker, public, cancelBase)
}

// closeAll closes each feature that is an io.Closer.
func closeAll(log *slog.Logger, features []httpapi.Feature) {
	for _, f := range features {
		if c, ok := f.(io.Closer); ok {
			if err := c.Close(); err != nil {
				log.Error("closing a feature failed", "error", err.Error())
			}
		}
	}
}

// drain stops the public server gracefully (factor IX): readiness fails first so
// load balancers stop routing here, in-flight requests finish, and only
// what outlives the timeout is cut off.
func drain(log *slog.Logger, cfg config.Shutdown, sig os.Signal, checker *health.Checker,
	public *http.Server, cancelRequests context.CancelFunc) error {
	checker.Shutdown()

	// A person at a terminal presses Ctrl-C and wants the prompt back; a
	// platform sends SIGTERM and is still routing requests here for a
	// moment. Only the latter needs the drain delay.
	if sig != os.Interrupt {
		log.Info("readiness down; waiting for load balancers to notice", "drain_delay", cfg.DrainDelay)
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
	if drainErr == nil {
		log.Info("stopped")
	}
	return drainErr
}
