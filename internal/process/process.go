// Package process starts and stops the service's long-running processes,
// the web server and the worker, in one way: stop signals are caught
// first, then the configuration is read and the logger, tracing and the
// metrics registry are set up; a wait for a backing service ends on a stop signal;
// the private admin listener serves metrics, profiles and probes; Wait
// says when to stop, and repeated signals are ignored from then on. Each
// process's run keeps only what differs.
package process

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.opentelemetry.io/otel/trace"

	"github.com/dozen-go/dozen/internal/adminhttp"
	"github.com/dozen-go/dozen/internal/buildinfo"
	"github.com/dozen-go/dozen/internal/config"
	"github.com/dozen-go/dozen/internal/database"
	"github.com/dozen-go/dozen/internal/health"
	"github.com/dozen-go/dozen/internal/logging"
	"github.com/dozen-go/dozen/internal/tracing"
)

// adminStopTimeout bounds how long the admin listener's last requests (a
// scrape, a profile) may run once the process has stopped its work.
const adminStopTimeout = time.Second

// Process is a started long-running process. Its fields are read-only.
type Process struct {
	// Config is the configuration, read once from the environment.
	Config config.Config
	// Log is the process's logger.
	Log *slog.Logger
	// Metrics is the process's own registry, with the Go runtime, process
	// and build collectors; the admin listener serves it.
	Metrics *prometheus.Registry
	// Build is the running build.
	Build buildinfo.Info
	// Tracer is the tracer provider, or nil when tracing is off (see
	// package tracing).
	Tracer trace.TracerProvider
	// DB is the service's database, its schema checked (see
	// database.OpenChecked); Close closes it.
	DB *database.DB

	signals     stopSignals
	flush       func() error
	stopTracing func(context.Context) error
	stopBy      time.Time  // when the spans still held are given up on
	failed      chan error // receives the first failure of a server started by Serve
	serving     sync.WaitGroup
	admin       *http.Server // nil until ServeAdmin
}

// Start begins a long-running process named name: it catches stop
// signals, reads the configuration through lookupEnv, sets up the logger
// writing to stdout, tracing and the metrics registry, and opens the
// database, waiting for it as long as the configuration allows; a stop
// signal meanwhile ends the wait and the start. A process takes no
// arguments: all settings come from the environment. Defer Close once
// Start succeeds.
func Start(ctx context.Context, name string, args []string, lookupEnv func(string) (string, bool), stdout io.Writer) (*Process, error) {
	if len(args) > 0 {
		return nil, fmt.Errorf("unexpected arguments %q: all settings come from the environment", args)
	}
	// Caught before anything can fail slowly, so that a stop signal
	// during start-up is seen.
	signals := catchSignals()
	cfg, err := config.Load(lookupEnv)
	if err != nil {
		signals.release()
		return nil, err
	}

	log, flush := logging.New(stdout, cfg.Log)
	build := buildinfo.Read()
	log.Info("starting", "process", name, "version", build.Version, "revision", build.Revision,
		"go", build.GoVersion, "config", config.Effective(&cfg))
	tracer, stopTracing, err := tracing.Start(ctx, lookupEnv, log, name)
	if err != nil {
		_ = flush()
		signals.release()
		return nil, err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector(),
	)
	p := &Process{
		Config: cfg, Log: log, Metrics: reg, Build: build, Tracer: tracer,
		signals: signals, flush: flush, stopTracing: stopTracing,
		stopBy: time.Now().Add(cfg.Shutdown.Timeout), failed: make(chan error, 1),
	}
	if p.DB, err = p.openDatabase(ctx); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// openDatabase opens the configured database and checks its schema (see
// database.OpenChecked), waiting for it as long as the configuration
// allows. A stop signal meanwhile ends the wait and the start-up. The
// pool's metrics join the registry.
func (p *Process) openDatabase(ctx context.Context) (*database.DB, error) {
	ctx, interrupted := p.interruptible(ctx)
	db, err := database.OpenChecked(ctx, p.Config.Database, p.Log, p.Tracer)
	if sig := interrupted(); sig != nil {
		if err == nil {
			db.Close()
		}
		return nil, fmt.Errorf("stopped by %s during start-up", sig)
	}
	if err != nil {
		return nil, err
	}
	if c := db.Collector(); c != nil {
		p.Metrics.MustRegister(c)
	}
	return db, nil
}

// Checker returns the readiness checker of the process: the database,
// required, and the checks given, such as optional services'.
func (p *Process) Checker(checks ...health.Check) *health.Checker {
	all := append([]health.Check{{Name: p.DB.Dialect, Required: true, Probe: p.DB.Ping}}, checks...)
	return health.NewChecker(p.Log, p.Config.Ready.Timeout, p.Config.Ready.CacheTTL, all...)
}

// ServeAdmin serves the private admin listener (package adminhttp) on
// ADMIN_ADDR, with the probes of checker, and returns its address. It
// stops in Close, after the process's own work, so that metrics stay
// scrapable while the process drains. Readiness joins the metrics.
func (p *Process) ServeAdmin(checker *health.Checker) (net.Addr, error) {
	p.Metrics.MustRegister(checker)
	ln, err := net.Listen("tcp", p.Config.AdminAddr)
	if err != nil {
		return nil, fmt.Errorf("listen on ADMIN_ADDR: %w", err)
	}
	p.admin = adminhttp.NewServer(p.Config.HTTP, p.Metrics, p.Log, checker)
	p.Serve("admin", p.admin, ln)
	return ln.Addr(), nil
}

// Serve serves srv on ln in the background until srv is shut down. If it
// fails instead, Wait returns the failure; the caller shuts srv down.
func (p *Process) Serve(name string, srv *http.Server, ln net.Listener) {
	p.serving.Go(func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			select {
			case p.failed <- fmt.Errorf("serve %s: %w", name, err):
			default: // one failure is enough to stop
			}
		}
	})
}

// Close stops the admin listener, waits for the servers started by Serve
// to return, closes the database, exports the spans still held, stops
// catching signals and writes out the log. Defer it right after Start, so
// that it runs last.
//
// Spans are exported by the end of the stop's budget (see Wait), or
// SHUTDOWN_TIMEOUT after Start when the process never got to Wait: a
// collector that is down costs nothing past the budget.
func (p *Process) Close() {
	if p.admin != nil {
		ctx, cancel := context.WithTimeout(context.Background(), adminStopTimeout)
		if err := p.admin.Shutdown(ctx); err != nil {
			_ = p.admin.Close() // cut off what did not finish; nothing more to do
		}
		cancel()
	}
	p.serving.Wait()
	if p.DB != nil {
		_ = p.DB.Close() // the work that used it has stopped; nothing to report it to
	}
	ctx, cancel := context.WithDeadline(context.Background(), p.stopBy)
	if err := p.stopTracing(ctx); err != nil {
		p.Log.Warn("tracing: spans left unexported at exit", "error", err.Error())
	}
	cancel()
	p.signals.release()
	_ = p.flush() // a failed last write to stdout has nowhere to go
}
