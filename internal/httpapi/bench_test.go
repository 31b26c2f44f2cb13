package httpapi

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dozen-go/dozen/internal/config"
	"github.com/dozen-go/dozen/internal/health"
	"github.com/dozen-go/dozen/internal/logging"
)

var okBody = []byte("ok\n")

func okHandler(w http.ResponseWriter, r *http.Request) { w.Write(okBody) }

// BenchmarkStack measures what the middleware stack costs a request: the
// same trivial handler bare and behind request id, client IP, access log
// (JSON through zap, batched writes), metrics, recovery, security headers,
// and load shedding: the stack the target names. Compare the two lines' ns/op and allocs/op.
func BenchmarkStack(b *testing.B) {
	b.Run("bare", func(b *testing.B) {
		serveLoop(b, http.HandlerFunc(okHandler))
	})
	// "full" writes the access log; "full-nolog" raises the level above
	// it, which shows the log line's share of the cost.
	for name, lvl := range map[string]slog.Level{"full": slog.LevelInfo, "full-nolog": slog.LevelWarn} {
		b.Run(name, func(b *testing.B) {
			var cfg config.Config
			if err := config.Process(&cfg, func(string) (string, bool) { return "", false }); err != nil {
				b.Fatal(err)
			}
			log, flush := logging.New(io.Discard, config.Log{Level: lvl, Format: config.LogJSON, FlushInterval: 100 * time.Millisecond})
			defer flush()
			d := Deps{Config: cfg.HTTP, Log: log, Metrics: prometheus.NewRegistry(), Health: health.NewChecker(log, time.Second, time.Second)}
			r := newRouter(d)
			r.Group(func(r chi.Router) {
				r.Use(shed(d.Config.MaxInFlight))
				r.Get("/ok", okHandler)
			})
			serveLoop(b, r)
		})
	}
}

func serveLoop(b *testing.B, h http.Handler) {
	req := httptest.NewRequest("GET", "/ok", nil)
	req.RemoteAddr = "192.0.2.1:1234"
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
