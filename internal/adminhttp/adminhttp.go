// Package adminhttp is the private admin listener that every long-running
// process serves on ADMIN_ADDR: Prometheus metrics, pprof profiles and the
// probes. It must never be reachable from outside: profiles show the
// process's internals and cost CPU on demand.
package adminhttp

import (
	"log/slog"
	"net/http"
	"net/http/pprof"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/dozen-go/dozen/internal/config"
	"github.com/dozen-go/dozen/internal/health"
)

// NewServer returns the admin listener's server: metrics from reg, the
// profiles, and the probes of checker, with the header and idle timeouts
// of cfg. It sets no read or write timeout, so that a CPU profile or a
// trace may run as long as it was asked to.
func NewServer(cfg config.HTTP, reg *prometheus.Registry, log *slog.Logger, checker *health.Checker) *http.Server {
	errorLog := slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	mux := http.NewServeMux()
	mux.Handle("GET /livez", health.LiveHandler())
	mux.Handle("GET /readyz", checker.ReadyHandler())
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:          errorLog,
		Registry:          reg,
		EnableOpenMetrics: true,
	}))
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ErrorLog:          errorLog,
	}
}
