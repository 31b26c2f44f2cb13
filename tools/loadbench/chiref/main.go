// Command chiref is the peer loadbench measures the template against: a
// chi service as a competent team writes it in an afternoon. It has chi's
// RequestID, RealIP and Recoverer middleware, a slog JSON access line to
// stdout per request, a Prometheus counter and duration histogram by route
// pattern, the security headers it is given and the server timeouts of
// the template's settings. It answers the three paths loadbench measures:
// GET /version, a 404 for any unknown path, and GET /{code}, a redirect
// looked up in memory.
//
// Settings: PORT, ADMIN_ADDR (the /metrics listener), REFERENCE_HEADERS
// ("Name: value" lines set on every response) and the template's
// HTTP_READ_HEADER_TIMEOUT, HTTP_READ_TIMEOUT, HTTP_WRITE_TIMEOUT and
// HTTP_IDLE_TIMEOUT.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "chiref:", err)
		os.Exit(1)
	}
}

func run() error {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "http_requests_total", Help: "Requests by method, route pattern and status.",
	}, []string{"method", "route", "code"})
	durations := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "http_request_duration_seconds", Help: "Request duration by method and route pattern.",
		Buckets: prometheus.DefBuckets,
	}, []string{"method", "route"})
	reg.MustRegister(requests, durations)

	headers := http.Header{}
	for line := range strings.Lines(os.Getenv("REFERENCE_HEADERS")) {
		if name, value, ok := strings.Cut(strings.TrimSpace(line), ": "); ok {
			headers.Add(name, value)
		}
	}
	links := map[string]string{"benchx": "https://example.com/target"}

	r := chi.NewRouter()
	r.Use(middleware.RequestID, middleware.RealIP, middleware.Recoverer)
	r.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			start := time.Now()
			for name, values := range headers {
				w.Header()[name] = values
			}
			ww := middleware.NewWrapResponseWriter(w, req.ProtoMajor)
			next.ServeHTTP(ww, req)
			elapsed := time.Since(start)
			route := chi.RouteContext(req.Context()).RoutePattern()
			if route == "" {
				route = "unmatched"
			}
			requests.WithLabelValues(req.Method, route, fmt.Sprint(ww.Status())).Inc()
			durations.WithLabelValues(req.Method, route).Observe(elapsed.Seconds())
			log.LogAttrs(req.Context(), slog.LevelInfo, "request",
				slog.String("request_id", middleware.GetReqID(req.Context())),
				slog.String("method", req.Method), slog.String("path", req.URL.Path),
				slog.String("route", route), slog.Int("status", ww.Status()),
				slog.Int("bytes", ww.BytesWritten()), slog.Duration("duration", elapsed))
		})
	})
	r.Get("/readyz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	r.Get("/version", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"version": "reference"})
	})
	r.Get("/{code}", func(w http.ResponseWriter, req *http.Request) {
		target, ok := links[chi.URLParam(req, "code")]
		if !ok {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "not found"})
			return
		}
		http.Redirect(w, req, target, http.StatusFound)
	})
	r.NotFound(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not found"})
	})

	go func() {
		admin := &http.Server{Addr: os.Getenv("ADMIN_ADDR"), Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
		if err := admin.ListenAndServe(); err != nil {
			log.Error("admin listener", "err", err)
		}
	}()
	srv := &http.Server{
		Addr:              ":" + os.Getenv("PORT"),
		Handler:           r,
		ReadHeaderTimeout: setting("HTTP_READ_HEADER_TIMEOUT"),
		ReadTimeout:       setting("HTTP_READ_TIMEOUT"),
		WriteTimeout:      setting("HTTP_WRITE_TIMEOUT"),
		IdleTimeout:       setting("HTTP_IDLE_TIMEOUT"),
	}
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// setting returns the duration in the named variable; 0 (no limit) when
// it is unset or malformed, as net/http's zero value means.
func setting(name string) time.Duration {
	d, _ := time.ParseDuration(os.Getenv(name))
	return d
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
