package logging

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/dozen-go/dozen/internal/config"
)

// BenchmarkAccessLog measures writing one access-log line as the server
// does: JSON, batched writes, a request id in the context.
func BenchmarkAccessLog(b *testing.B) {
	log, flush := New(io.Discard, config.Log{Level: slog.LevelInfo, Format: config.LogJSON, FlushInterval: time.Hour})
	defer flush()
	a := NewAccessLog(log, false)
	ctx := WithAttrs(context.Background(), slog.String("request_id", "I2CRQBV55MO33XPUIQCCCJLMNM"))
	r := Request{
		Time: time.Now(), Level: slog.LevelInfo, Method: "GET", Route: "/version", Path: "/version",
		Status: 200, Bytes: 70, Duration: 5988 * time.Nanosecond, ClientIP: netip.MustParseAddr("192.0.2.1"),
	}
	b.ReportAllocs()
	for b.Loop() {
		a.Write(ctx, &r)
	}
}

// The access line is written once per request; writing it must not
// allocate, or every request pays in garbage.
func TestAccessLogAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	log, flush := New(io.Discard, config.Log{Level: slog.LevelInfo, Format: config.LogJSON, FlushInterval: time.Hour})
	defer flush()
	a := NewAccessLog(log, true) // traced: the lookup of a trace is on the path too
	ctx := WithAttrs(context.Background(), slog.String("request_id", "I2CRQBV55MO33XPUIQCCCJLMNM"))
	r := Request{Time: time.Now(), Level: slog.LevelInfo, Method: "GET", Route: "/{code}", Path: "/abc",
		Status: 302, Duration: time.Millisecond, ClientIP: netip.MustParseAddr("2001:db8::1")}
	if n := testing.AllocsPerRun(1000, func() { a.Write(ctx, &r) }); n != 0 {
		t.Errorf("AccessLog.Write allocates %v times per line, want 0", n)
	}
}
