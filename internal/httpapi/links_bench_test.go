package httpapi

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dozen-go/dozen/internal/config"
	"github.com/dozen-go/dozen/internal/health"
	"github.com/dozen-go/dozen/internal/links"
	"github.com/dozen-go/dozen/internal/logging"
)

// BenchmarkRedirect measures the hot path through the whole stack with a
// warm cache: GET /{code} answered from the in-process cache, the click
// counted in memory.
func BenchmarkRedirect(b *testing.B) {
	var cfg config.Config
	if err := config.Process(&cfg, func(string) (string, bool) { return "", false }); err != nil {
		b.Fatal(err)
	}
	log, flush := logging.New(io.Discard, cfg.Log)
	defer flush()
	clicks := links.NewClicks(discardClicks{}, log, time.Hour)
	cache := NewMemoryLinkCache(time.Hour)
	cache.Set(b.Context(), links.Link{ID: 1, Code: "benchx", URL: "https://example.com/target"})
	d := Deps{Config: cfg.HTTP, Log: log, Metrics: prometheus.NewRegistry(), Health: health.NewChecker(log, time.Second, time.Second),
		Links: LinkDeps{Config: cfg.Links, Store: newMemStore(), Cache: cache, Clicks: clicks,
			CreateLimit: NewRateLimit(log, 10, time.Minute, nil), Now: time.Now}}
	h := NewServer(d)
	req := httptest.NewRequest("GET", "/benchx", nil)
	req.RemoteAddr = "192.0.2.1:1234"
	w := &discardWriter{h: http.Header{}}
	h.ServeHTTP(w, req)
	if loc := w.h.Get("Location"); loc != "https://example.com/target" {
		b.Fatalf("redirect Location = %q", loc)
	}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, req)
	}
}

type discardClicks struct{}

func (discardClicks) AppendClicks(context.Context, map[int64]int64, time.Time) error { return nil }

// BenchmarkDecodeCreate measures the strict decoding of a create request.
func BenchmarkDecodeCreate(b *testing.B) {
	body := []byte(`{"url":"https://example.com/some/long/path?with=query&and=more","code":"benchx","expires_at":"2030-01-01T00:00:00Z"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeJSON[createLinkRequest](body); err != nil {
			b.Fatal(err)
		}
	}
}
