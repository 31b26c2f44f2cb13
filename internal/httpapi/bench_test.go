package httpapi

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/dozen-go/dozen/internal/config"
	"github.com/dozen-go/dozen/internal/health"
	"github.com/dozen-go/dozen/internal/logging"
)

var okBody = []byte("ok\n")

func okHandler(w http.ResponseWriter, r *http.Request) { w.Write(okBody) }

// benchDeps returns Deps with the default configuration and a JSON logger
// at level writing to io.Discard in batches, as the server does.
func benchDeps(b *testing.B, level slog.Level) Deps {
	b.Helper()
	var cfg config.Config
	if err := config.Process(&cfg, func(string) (string, bool) { return "", false }); err != nil {
		b.Fatal(err)
	}
	log, flush := logging.New(io.Discard, config.Log{Level: level, Format: config.LogJSON, FlushInterval: 100 * time.Millisecond})
	b.Cleanup(func() { _ = flush() })
	return Deps{Config: cfg.HTTP, Log: log, Metrics: prometheus.NewRegistry(), Health: health.NewChecker(log, time.Second, time.Second)}
}

// BenchmarkMiddleware measures each middleware alone around a trivial
// handler, so that the full stack's cost can be split into its pieces.
func BenchmarkMiddleware(b *testing.B) {
	d := benchDeps(b, slog.LevelInfo)
	ok := http.HandlerFunc(okHandler)
	for _, bm := range []struct {
		name string
		mw   func(http.Handler) http.Handler
	}{
		{"requestValues", requestValues(0)},
		{"requestValues-xff", requestValues(1)},
		{"observe", observe(d.Log, newMetrics(prometheus.NewRegistry(), false))},
		// With tracing on (sampled, no exporter): what a span per request costs.
		{"traced", traced(sdktrace.NewTracerProvider())},
		{"recoverer", recoverer(d.Log)},
		{"securityHeaders", securityHeaders},
		{"shed", shed(d.Config.MaxInFlight)},
		{"limits", Limits(d.Config.MaxBodyBytes, d.Config.RequestTimeout)},
	} {
		b.Run(bm.name, func(b *testing.B) {
			serveLoop(b, bm.mw(ok), "GET", "/ok")
		})
	}
}

// BenchmarkStack measures what the middleware stack costs a request: the
// same trivial handler bare and behind client IP, request id, access log
// (JSON through zap, batched writes), metrics, recovery, security headers,
// and load shedding: the stack the target names. Compare the
// lines' ns/op and allocs/op.
func BenchmarkStack(b *testing.B) {
	b.Run("bare", func(b *testing.B) {
		serveLoop(b, http.HandlerFunc(okHandler), "GET", "/ok")
	})
	// "full" writes the access log; "full-nolog" raises the level above
	// it, which shows the log line's share of the cost.
	for name, lvl := range map[string]slog.Level{"full": slog.LevelInfo, "full-nolog": slog.LevelWarn} {
		b.Run(name, func(b *testing.B) {
			d := benchDeps(b, lvl)
			r := newRouter(d)
			r.With(shed(d.Config.MaxInFlight)).Get("/ok", okHandler)
			serveLoop(b, r, "GET", "/ok")
		})
	}
}

// BenchmarkServer measures the whole public handler, routes included, per
// kind of response: a 200 with a JSON body, and a 404 problem+json for a
// path no route matches (what scanners cost).
func BenchmarkServer(b *testing.B) {
	for _, bm := range []struct{ name, path string }{
		{"200-json", "/version"},
		{"404-problem", "/no/such/path"},
	} {
		b.Run(bm.name, func(b *testing.B) {
			d := benchDeps(b, slog.LevelInfo)
			serveLoop(b, NewServer(d), "GET", bm.path)
		})
	}
}

func serveLoop(b *testing.B, h http.Handler, method, path string) {
	req := httptest.NewRequest(method, path, nil)
	req.RemoteAddr = "192.0.2.1:1234"
	req.Header.Set("X-Forwarded-For", "203.0.113.7")
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, req)
	}
}

// discardWriter is a ResponseWriter that keeps nothing, so the benchmark
// measures the handler chain rather than a recorder.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}
