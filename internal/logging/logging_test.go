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
	"github.com/dozen-go/dozen/internal/web"
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

// WithAttrs adds to the attributes a context carries, its parent's
// included, and changes no one else's: not the parent's, not a
// sibling's.
func TestWithAttrs(t *testing.T) {
	parent := WithAttrs(context.Background(), slog.String("a", "1"))
	var siblings [2]context.Context
	for i, v := range []string{"y", "z"} {
		siblings[i] = WithAttrs(parent, slog.String("c", v))
	}
	for _, tt := range []struct {
		ctx  context.Context
		want string
		name string
	}{
		{parent, "a=1", "parent"}, {siblings[0], "a=1 c=y", "first sibling"}, {siblings[1], "a=1 c=z", "second sibling"},
	} {
		var got []string
		for _, a := range contextAttrs(tt.ctx) {
			got = append(got, a.String())
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("%s: attributes %q, want %q", tt.name, got, tt.want)
		}
	}
}

// Every line logged with a request's context carries the request's id
// and caller, read from their typed context values.
func TestRequestValuesOnLines(t *testing.T) {
	var out syncBuffer
	log := newJSON(&out)
	ctx := web.WithCaller(web.WithRequestID(context.Background(), "R1"), "token:abc")
	log.InfoContext(ctx, "handled")
	var got map[string]any
	if err := json.Unmarshal([]byte(out.String()), &got); err != nil {
		t.Fatalf("line %q is not JSON: %v", out.String(), err)
	}
	if got[web.RequestIDKey] != "R1" || got[web.CallerKey] != "token:abc" {
		t.Errorf("line = %s, want request_id R1 and caller token:abc", out.String())
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

	withCaller := maps.Clone(want)
	withCaller["caller"], withCaller["tenant"] = "token:abc", "t1"

	ctx := web.WithRequestID(context.Background(), "r1")
	for _, tt := range []struct {
		name    string
		logger  func(*syncBuffer) *slog.Logger
		ctx     context.Context
		request func(*Request)
		want    map[string]any
	}{
		{"zap core", newJSON, ctx, nil, want},
		{"aborted", newJSON, ctx, func(r *Request) { r.Aborted = true }, aborted},
		{"in a span", newJSON, trace.ContextWithSpanContext(ctx, spanContext), nil, traced},
		{"caller and attributes", newJSON, WithAttrs(web.WithCaller(ctx, "token:abc"), slog.String("tenant", "t1")), nil, withCaller},
		// A derived logger's attributes are on its access lines too.
		{"derived logger", func(b *syncBuffer) *slog.Logger { return newJSON(b).With("component", "api") }, ctx, nil,
			func() map[string]any { m := maps.Clone(want); m["component"] = "api"; return m }()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out syncBuffer
			a := NewAccessLog(tt.logger(&out))
			r := request
			if tt.request != nil {
				tt.request(&r)
			}
			if !a.Enabled(r.Level) || a.Enabled(slog.LevelDebug) {
				t.Errorf("Enabled(info, debug) = %v, %v, want true, false", a.Enabled(r.Level), a.Enabled(slog.LevelDebug))
			}
			a.Write(tt.ctx, r)
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
