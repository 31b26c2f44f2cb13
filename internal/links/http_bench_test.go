package links

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/dozen-go/dozen/internal/cache"
	"github.com/dozen-go/dozen/internal/config"
	"github.com/dozen-go/dozen/internal/health"
	"github.com/dozen-go/dozen/internal/httpapi"
	"github.com/dozen-go/dozen/internal/logging"
	"github.com/dozen-go/dozen/internal/web"
	"github.com/prometheus/client_golang/prometheus"
)

// benchLinkDeps are the link routes' dependencies for benchmarks: an
// in-memory store, and a warm in-process cache holding the link "benchx".
func benchLinkDeps(b *testing.B, d deps) Feature {
	b.Helper()
	warm := cache.NewLocal[CachedLink](100_000, time.Hour)
	warm.Set(b.Context(), "benchx", CachedLink{ID: 1, URL: "https://example.com/target"})
	return Feature{Store: newMemStore(), Cache: warm, Clicks: NewClicks(discardClicks{}, d.Log, time.Hour, nil),
		CreateLimit: httpapi.NewRateLimit(d.Log, "create", 10, time.Minute, nil), Now: time.Now}
}

// BenchmarkRedirect measures the hot path through the whole stack with a
// warm cache: GET /{code} answered from the in-process cache, the click
// counted in memory.
func BenchmarkRedirect(b *testing.B) {
	d := benchDeps(b)
	d.Links = benchLinkDeps(b, d)
	h := newServer(d)
	w := &discardWriter{h: http.Header{}}
	h.ServeHTTP(w, httptest.NewRequest("GET", "/benchx", nil))
	if loc := w.h.Get("Location"); loc != "https://example.com/target" {
		b.Fatalf("redirect Location = %q", loc)
	}
	serveLoop(b, h, "GET", "/benchx")
}

type discardClicks struct{}

func (discardClicks) AppendClicks(context.Context, ClickBatch) error { return nil }

// BenchmarkDecodeCreate measures the strict decoding of a create request.
func BenchmarkDecodeCreate(b *testing.B) {
	body := []byte(`{"url":"https://example.com/some/long/path?with=query&and=more","code":"benchx","expires_at":"2030-01-01T00:00:00Z"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := web.DecodeJSON[createLinkRequest](body); err != nil {
			b.Fatal(err)
		}
	}
}

// benchDeps returns deps with the default configuration and a JSON logger
// at level info writing to io.Discard in batches, as the server does.
func benchDeps(b *testing.B) deps {
	b.Helper()
	var cfg config.Config
	if err := config.Process(&cfg, func(string) (string, bool) { return "", false }); err != nil {
		b.Fatal(err)
	}
	log, flush := logging.New(io.Discard, config.Log{Level: slog.LevelInfo, Format: config.LogJSON, FlushInterval: 100 * time.Millisecond})
	b.Cleanup(func() { _ = flush() })
	return deps{Deps: httpapi.Deps{Config: cfg.HTTP, Log: log, Metrics: prometheus.NewRegistry(), Health: health.NewChecker(log, time.Second, time.Second)}}
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
