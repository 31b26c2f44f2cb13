package logging

import (
	"context"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/dozen-go/dozen/internal/config"
)

// TestAccessLineAsZapWritesIt checks the hand-written access line byte for
// byte against the line zap's JSON encoder writes for the same request,
// over the strings, times, durations and attributes where the two could
// part ways.
func TestAccessLineAsZapWritesIt(t *testing.T) {
	base := Request{
		Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Level: slog.LevelInfo,
		Method: "GET", Route: "/v1/links/{code}", Path: "/v1/links/abc", Status: 200, Bytes: 70,
		Duration: 1500 * time.Microsecond, ClientIP: netip.MustParseAddr("192.0.2.1"),
	}
	requests := map[string]func(*Request){
		"plain":   func(*Request) {},
		"escapes": func(r *Request) { r.Path = "/a\"b\\c\nd\re\tf\x01g\x1fh\x7fi<j>&k" },
		"utf-8":   func(r *Request) { r.Path = "/é☃𝄞/\xff\xfe/\xe2\x82" },
		"method":  func(r *Request) { r.Method = "BREW\"" },
		"nanoseconds and a zone": func(r *Request) {
			r.Time = time.Date(2026, 11, 30, 9, 5, 7, 123456789, time.FixedZone("", -7*3600-30*60))
		},
		"zero time":      func(r *Request) { r.Time = time.Time{} },
		"zero duration":  func(r *Request) { r.Duration = 0 },
		"one nanosecond": func(r *Request) { r.Duration = time.Nanosecond },
		"odd duration":   func(r *Request) { r.Duration = 123456789 * time.Nanosecond },
		"hours":          func(r *Request) { r.Duration = 3*time.Hour + 7 },
		"no client":      func(r *Request) { r.ClientIP = netip.Addr{} },
		"ipv6 zone":      func(r *Request) { r.ClientIP = netip.MustParseAddr("fe80::1%eth0") },
		"aborted":        func(r *Request) { r.Aborted, r.Status, r.Level = true, 500, slog.LevelError },
		"warn":           func(r *Request) { r.Level, r.Status = slog.LevelWarn, 429 },
		"negative":       func(r *Request) { r.Status, r.Bytes, r.Duration = -1, -2, -3 },
	}
	bg := context.Background()
	contexts := map[string]context.Context{
		"no scope":   bg,
		"request id": WithAttrs(bg, slog.String("request_id", "I2CRQBV55MO33XPUIQCCCJLMNM")),
		"kinds": WithAttrs(bg, slog.String("k\"ey", "v\nal"), slog.Int64("n", -42), slog.Uint64("u", 1<<63),
			slog.Bool("b", true), slog.Any("s", "any string")),
		"nested":    WithAttrs(WithAttrs(bg, slog.String("a", "1")), slog.String("b", "2")),
		"in a span": trace.ContextWithSpanContext(WithAttrs(bg, slog.String("request_id", "r1")), spanContext),
	}
	for rname, change := range requests {
		for cname, ctx := range contexts {
			r := base
			change(&r)
			got, ok := appendLine(ctx, nil, zapLevel(r.Level), &r, true)
			if !ok {
				t.Errorf("%s, %s: appendLine left the line to zap", rname, cname)
				continue
			}
			if want := zapLine(ctx, t, &r); string(got) != want {
				t.Errorf("%s, %s:\ngot  %s\nwant %s", rname, cname, got, want)
			}
		}
	}
}

// FuzzAccessLineString holds the hand-written escaping of a path, a
// route and an attribute value to zap's, byte for byte.
func FuzzAccessLineString(f *testing.F) {
	for _, s := range []string{"", "/plain", "/a\"b\\c", "\x00\x1f\x7f\n\r\t", "/é\u2028\xff\xe2\x82", "<>&\U0001F600"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ctx := WithAttrs(context.Background(), slog.String("v", s))
		r := Request{Time: time.Unix(1, 0).UTC(), Level: slog.LevelInfo, Method: "GET", Route: s, Path: s, Status: 200}
		got, ok := appendLine(ctx, nil, zapLevel(r.Level), &r, true)
		if !ok {
			t.Fatal("appendLine left a string attribute to zap")
		}
		if want := zapLine(ctx, t, &r); string(got) != want {
			t.Errorf("%q:\ngot  %s\nwant %s", s, got, want)
		}
	})
}

// A context attribute of a kind the hand-written line does not write goes
// through zap, and the line is still whole.
func TestAccessLineRareAttribute(t *testing.T) {
	ctx := WithAttrs(context.Background(), slog.Float64("ratio", 0.25), slog.Duration("wait", time.Second),
		slog.Any("list", []int{1, 2}))
	r := Request{Time: time.Unix(1, 0).UTC(), Level: slog.LevelInfo, Method: "GET", Path: "/", Status: 200}
	if _, ok := appendLine(ctx, nil, zapLevel(r.Level), &r, true); ok {
		t.Fatal("appendLine wrote a float, a duration and a slice itself")
	}
	var out syncBuffer
	NewAccessLog(newJSON(&out), true).Write(ctx, &r)
	if want := zapLine(ctx, t, &r); out.String() != want {
		t.Errorf("got  %s\nwant %s", out.String(), want)
	}
}

// zapLine returns the line the zap core writes for r, through zap's typed
// API as Write does when it cannot write the line itself.
func zapLine(ctx context.Context, t *testing.T, r *Request) string {
	t.Helper()
	var out syncBuffer
	log, _ := New(&out, config.Log{Level: slog.LevelDebug, Format: config.LogJSON})
	a := NewAccessLog(log, true)
	if a.out == nil {
		t.Fatal("a JSON logger gives the access log no writer")
	}
	a.out = nil
	a.Write(ctx, r)
	return out.String()
}
