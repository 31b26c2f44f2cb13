package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/dozen-go/dozen/internal/config"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Add appends to a Scope's attributes, its parent's included, and changes
// no one else's: not the parent's, not a sibling's made from the same
// slice (Init keeps the slice it is given).
func TestScopeAdd(t *testing.T) {
	parent := WithAttrs(context.Background(), slog.String("a", "1"))
	var child Scope
	child.Init(parent)
	child.Add(slog.String("c", "x"))

	shared := make([]slog.Attr, 1, 2) // room for one more
	shared[0] = slog.String("a", "2")
	var siblings [2]Scope
	for i, v := range []string{"y", "z"} {
		siblings[i].Init(context.Background(), shared...)
		siblings[i].Add(slog.String("c", v))
	}
	for _, tt := range []struct {
		ctx     context.Context
		a, c    string
		context string
	}{
		{&child, "1", "x", "child"}, {parent, "1", "", "parent"},
		{&siblings[0], "2", "y", "first sibling"}, {&siblings[1], "2", "z", "second sibling"},
	} {
		if a, c := Attr(tt.ctx, "a"), Attr(tt.ctx, "c"); a != tt.a || c != tt.c {
			t.Errorf("%s: a, c = %q, %q, want %q, %q", tt.context, a, c, tt.a, tt.c)
		}
	}
}

func TestJSONLines(t *testing.T) {
	var out syncBuffer
	log, flush := New(&out, config.Log{Level: slog.LevelInfo, Format: config.LogJSON})
	ctx := WithAttrs(context.Background(), slog.String("request_id", "r1"))
	ctx = WithAttrs(ctx, slog.String("user", "u1"))
	log.DebugContext(ctx, "hidden")
	log.InfoContext(ctx, "shown", "n", 3, "d", 1500*time.Millisecond)
	log.Warn("no context")
	if err := flush(); err != nil {
		t.Fatal(err)
	}

	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2 (debug filtered out): %q", len(lines), out.String())
	}
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatalf("line %q is not JSON: %v", lines[0], err)
	}
	want := map[string]any{"level": "info", "msg": "shown", "n": float64(3), "d": 1.5, "request_id": "r1", "user": "u1"}
	for k, v := range want {
		if first[k] != v {
			t.Errorf("line[%q] = %v, want %v", k, first[k], v)
		}
	}
	if _, ok := first["time"]; !ok {
		t.Errorf("line %v has no time", first)
	}
	if strings.Contains(lines[1], "request_id") {
		t.Errorf("line without context = %q, carries a request id", lines[1])
	}
}

func TestConsoleFormat(t *testing.T) {
	var out syncBuffer
	log, flush := New(&out, config.Log{Level: slog.LevelInfo, Format: config.LogConsole})
	log.Info("hello", "k", "v")
	flush()
	if s := out.String(); strings.HasPrefix(s, "{") || !strings.Contains(s, "INFO") || !strings.Contains(s, "hello") {
		t.Errorf("console line = %q, want a human-readable line", s)
	}
}

func TestBufferedFlush(t *testing.T) {
	var out syncBuffer
	log, flush := New(&out, config.Log{Level: slog.LevelInfo, Format: config.LogJSON, FlushInterval: time.Hour})
	log.Info("buffered")
	if out.String() != "" {
		t.Fatalf("line written before a flush: %q", out.String())
	}
	if err := flush(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "buffered") {
		t.Errorf("after flush, output = %q, want the buffered line", out.String())
	}

	out = syncBuffer{}
	log, flush = New(&out, config.Log{Level: slog.LevelInfo, Format: config.LogJSON, FlushInterval: 20 * time.Millisecond})
	defer flush()
	log.Info("timer")
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "timer") {
		if time.Now().After(deadline) {
			t.Fatal("line not written by the flush timer")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestTraceIDs(t *testing.T) {
	var out syncBuffer
	log, flush := New(&out, config.Log{Level: slog.LevelInfo, Format: config.LogJSON})
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
		SpanID:     trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
		TraceFlags: trace.FlagsSampled,
	})
	ctx := trace.ContextWithSpanContext(context.Background(), sc)
	log.InfoContext(ctx, "in a span")
	log.InfoContext(context.Background(), "outside")
	if err := flush(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2: %q", len(lines), out.String())
	}
	var in, outside map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &in); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(lines[1]), &outside); err != nil {
		t.Fatal(err)
	}
	if got, want := in[TraceIDKey], "4bf92f3577b34da6a3ce929d0e0e4736"; got != want {
		t.Errorf("trace_id = %v, want %v", got, want)
	}
	if got, want := in[SpanIDKey], "00f067aa0ba902b7"; got != want {
		t.Errorf("span_id = %v, want %v", got, want)
	}
	if _, ok := outside[TraceIDKey]; ok {
		t.Errorf("line outside a span has a trace_id: %v", outside)
	}
	if _, _, ok := TraceIDs(context.Background()); ok {
		t.Error("TraceIDs(no span) reported ok")
	}
}

// spanContext is a sampled span's context, as tracing puts it in ctx.
var spanContext = trace.NewSpanContext(trace.SpanContextConfig{
	TraceID:    trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
	SpanID:     trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
	TraceFlags: trace.FlagsSampled,
})

func TestAccessLog(t *testing.T) {
	request := Request{
		Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Level: slog.LevelInfo,
		Method: "GET", Route: "/v1/links/{code}", Path: "/v1/links/a\"b", Status: 404, Bytes: 120,
		Duration: 1500 * time.Microsecond, ClientIP: netip.MustParseAddr("2001:db8::1"),
	}
	want := map[string]any{
		"level": "info", "time": "2026-01-02T03:04:05Z", "msg": "request",
		"method": "GET", "route": "/v1/links/{code}", "path": "/v1/links/a\"b", "status": float64(404),
		"bytes": float64(120), "duration": 0.0015, "client_ip": "2001:db8::1", "request_id": "r1",
	}
	traced := maps.Clone(want)
	traced["trace_id"], traced["span_id"] = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	aborted := maps.Clone(want)
	aborted["aborted"] = true

	ctx := WithAttrs(context.Background(), slog.String("request_id", "r1"))
	for _, tt := range []struct {
		name     string
		logger   func(*syncBuffer) *slog.Logger
		ctx      context.Context
		untraced bool
		request  func(*Request)
		want     map[string]any
	}{
		{"zap core", newJSON, ctx, false, nil, want},
		{"aborted", newJSON, ctx, false, func(r *Request) { r.Aborted = true }, aborted},
		{"in a span", newJSON, trace.ContextWithSpanContext(ctx, spanContext), false, nil, traced},
		// With tracing off, the line does not look for a trace.
		{"untraced", newJSON, trace.ContextWithSpanContext(ctx, spanContext), true, nil, want},
		// A derived logger goes through slog, which keeps what it added.
		{"through slog", func(b *syncBuffer) *slog.Logger { return newJSON(b).With("component", "api") }, ctx, false, nil,
			func() map[string]any { m := maps.Clone(want); m["component"] = "api"; return m }()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out syncBuffer
			a := NewAccessLog(tt.logger(&out), !tt.untraced)
			r := request
			if tt.request != nil {
				tt.request(&r)
			}
			if !a.Enabled(tt.ctx, r.Level) || a.Enabled(tt.ctx, slog.LevelDebug) {
				t.Errorf("Enabled(info, debug) = %v, %v, want true, false", a.Enabled(tt.ctx, r.Level), a.Enabled(tt.ctx, slog.LevelDebug))
			}
			a.Write(tt.ctx, &r)
			var got map[string]any
			if err := json.Unmarshal([]byte(out.String()), &got); err != nil {
				t.Fatalf("line %q is not JSON: %v", out.String(), err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("access line = %s, want the fields %v", out.String(), tt.want)
			}
		})
	}
}

func newJSON(w *syncBuffer) *slog.Logger {
	log, _ := New(w, config.Log{Level: slog.LevelInfo, Format: config.LogJSON})
	return log
}
