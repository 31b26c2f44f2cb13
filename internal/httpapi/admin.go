package httpapi

import (
	"log/slog"
	"net/http"
	"net/http/pprof"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/dozen-go/dozen/internal/health"
)

// NewAdminHandler returns the handler of the private admin listener:
// Prometheus metrics from reg, the pprof profiles, and the probes, for
// processes that have no public port (the worker). It must never be
// served on the public port.
func NewAdminHandler(reg *prometheus.Registry, log *slog.Logger, checker *health.Checker) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /livez", handleLivez())
	mux.Handle("GET /readyz", handleReadyz(checker))
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		Registry:          reg,
		EnableOpenMetrics: true,
	}))
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return mux
}
