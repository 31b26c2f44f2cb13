package logging

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/dozen-go/dozen/internal/config"
	"github.com/dozen-go/dozen/internal/web"
)

// BenchmarkAccessLog measures writing one access-log line as the server
// does: JSON, batched writes, a request id in the context.
func BenchmarkAccessLog(b *testing.B) {
	log, flush := New(io.Discard, config.Log{Level: slog.LevelInfo, Format: config.LogJSON, FlushInterval: time.Hour})
	defer flush()
	a := NewAccessLog(log)
	ctx := web.WithRequestID(context.Background(), "I2CRQBV55MO33XPUIQCCCJLMNM")
	r := Request{
		Time: time.Now(), Level: slog.LevelInfo, Method: "GET", Route: "/version", Path: "/version",
		Status: 200, Bytes: 70, Duration: 5988 * time.Nanosecond, ClientIP: netip.MustParseAddr("192.0.2.1"),
	}
	b.ReportAllocs()
	for b.Loop() {
		a.Write(ctx, r)
	}
}
