package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/dozen-go/dozen/internal/cache"
	"github.com/dozen-go/dozen/internal/links"
	"github.com/dozen-go/dozen/internal/web"
)

// benchLinkDeps are the link routes' dependencies for benchmarks: an
// in-memory store, and a warm in-process cache holding the link "benchx".
func benchLinkDeps(b *testing.B, d Deps) LinkDeps {
	b.Helper()
	warm := cache.NewLocal[CachedLink](100_000, time.Hour)
	warm.Set(b.Context(), "benchx", CachedLink{ID: 1, URL: "https://example.com/target"})
	return LinkDeps{Store: newMemStore(), Cache: warm, Clicks: links.NewClicks(discardClicks{}, d.Log, time.Hour, nil),
		CreateLimit: NewRateLimit(d.Log, "create", 10, time.Minute, nil), Now: time.Now}
}

// BenchmarkRedirect measures the hot path through the whole stack with a
// warm cache: GET /{code} answered from the in-process cache, the click
// counted in memory.
func BenchmarkRedirect(b *testing.B) {
	d := benchDeps(b, slog.LevelInfo)
	d.Links = benchLinkDeps(b, d)
	h := NewServer(d)
	w := &discardWriter{h: http.Header{}}
	h.ServeHTTP(w, httptest.NewRequest("GET", "/benchx", nil))
	if loc := w.h.Get("Location"); loc != "https://example.com/target" {
		b.Fatalf("redirect Location = %q", loc)
	}
	serveLoop(b, h, "GET", "/benchx")
}

type discardClicks struct{}

func (discardClicks) AppendClicks(context.Context, links.ClickBatch) error { return nil }

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
