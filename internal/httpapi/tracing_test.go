package httpapi

import (
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/dozen-go/dozen/internal/redis"
	"github.com/dozen-go/dozen/internal/redis/redistest"
)

func TestTracing(t *testing.T) {
	d, reg, logs := testDeps(t)
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	d.Tracer = tp
	useTraceContext(t)
	h := NewServer(d)

	const (
		callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
		callerSpan  = "00f067aa0ba902b7"
	)
	req := httptest.NewRequest("GET", "/version", nil)
	req.Header.Set("Traceparent", "00-"+callerTrace+"-"+callerSpan+"-01")
	h.ServeHTTP(httptest.NewRecorder(), req)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/no/such/route", nil))

	got := spans.GetSpans()
	if len(got) != 2 {
		t.Fatalf("got %d spans, want 2", len(got))
	}
	version, unmatched := got[0], got[1]
	if version.Name != "GET /version" {
		t.Errorf("span name = %q, want %q", version.Name, "GET /version")
	}
	if version.SpanKind != trace.SpanKindServer {
		t.Errorf("span kind = %v, want server", version.SpanKind)
	}
	if id := version.SpanContext.TraceID().String(); id != callerTrace {
		t.Errorf("trace id = %s, want the caller's %s", id, callerTrace)
	}
	if id := version.Parent.SpanID().String(); id != callerSpan {
		t.Errorf("parent span id = %s, want the caller's %s", id, callerSpan)
	}
	if !version.Parent.IsRemote() {
		t.Error("parent is not marked remote")
	}
	attrs := map[string]string{}
	for _, kv := range version.Attributes {
		attrs[string(kv.Key)] = kv.Value.String()
	}
	for k, v := range map[string]string{"http.route": "/version", "http.response.status_code": "200", "http.request.method": "GET"} {
		if attrs[k] != v {
			t.Errorf("attribute %s = %q, want %q", k, attrs[k], v)
		}
	}
	if unmatched.Name != "GET" {
		t.Errorf("unmatched route's span name = %q, want %q: paths must not become span names", unmatched.Name, "GET")
	}
	if unmatched.Parent.IsValid() {
		t.Error("a request without traceparent got a parent span")
	}

	// The access log line carries the ids of the request's span.
	var logged bool
	for _, l := range logs.Lines(t) {
		if l["msg"] == "request" && l["route"] == "/version" {
			logged = true
			if l["trace_id"] != callerTrace || l["span_id"] != version.SpanContext.SpanID().String() {
				t.Errorf("access log trace_id, span_id = %v, %v, want %s, %s",
					l["trace_id"], l["span_id"], callerTrace, version.SpanContext.SpanID())
			}
		}
	}
	if !logged {
		t.Error("no access log line for /version")
	}

	// The duration histogram points at the trace.
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var exemplar string
	for _, mf := range mfs {
		if mf.GetName() != "http_request_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if !hasLabel(m.GetLabel(), "route", "/version") {
				continue
			}
			for _, b := range m.GetHistogram().GetBucket() {
				for _, l := range b.GetExemplar().GetLabel() {
					if l.GetName() == "trace_id" {
						exemplar = l.GetValue()
					}
				}
			}
		}
	}
	if exemplar != callerTrace {
		t.Errorf("exemplar trace_id = %q, want %q", exemplar, callerTrace)
	}
}

func TestTracingOffAddsNothing(t *testing.T) {
	d, reg, logs := testDeps(t)
	h := NewServer(d)
	req := httptest.NewRequest("GET", "/version", nil)
	req.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d", rec.Code)
	}
	for _, l := range logs.Lines(t) {
		if _, ok := l["trace_id"]; ok {
			t.Errorf("log line has a trace_id with tracing off: %v", l)
		}
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, b := range m.GetHistogram().GetBucket() {
				if b.GetExemplar() != nil {
					t.Errorf("%s has an exemplar with tracing off", mf.GetName())
				}
			}
		}
	}
}

// useTraceContext installs, for the test, the W3C trace context
// propagator that package tracing installs when tracing is on.
func useTraceContext(t *testing.T) {
	prev := otel.GetTextMapPropagator()
	otel.SetTextMapPropagator(propagation.TraceContext{})
	t.Cleanup(func() { otel.SetTextMapPropagator(prev) })
}

func hasLabel(labels []*dto.LabelPair, name, value string) bool {
	for _, l := range labels {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}

// TestSpanNamesBounded: whatever methods and paths clients send, span
// names come from the standard methods (or "HTTP") and the route
// patterns: a client cannot choose them, nor make them long.
func TestSpanNamesBounded(t *testing.T) {
	d, _, _ := testDeps(t)
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	d.Tracer = tp
	h := NewServer(d)

	methods := []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE", "HTTP"}
	// A route pattern: chi's syntax, short.
	shape := regexp.MustCompile(`^(` + strings.Join(methods, "|") + `)( /[A-Za-z0-9_./{}*-]{0,60})?$`)

	rnd := rand.New(rand.NewPCG(1, 2))
	word := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"[rnd.IntN(62)]
		}
		return string(b)
	}
	const requests = 200
	sent := map[string]bool{}
	for i := range requests {
		method := word(1 + rnd.IntN(4000))
		if i%3 == 0 {
			method = methods[rnd.IntN(len(methods)-1)]
		}
		path := "/" + word(1+rnd.IntN(2000))
		if i%4 == 0 {
			path = "/version"
		} else {
			sent[path] = true
		}
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(method, path, nil))
	}

	names := map[string]bool{}
	for _, s := range spans.GetSpans() {
		names[s.Name] = true
		_, route, _ := strings.Cut(s.Name, " ")
		if !shape.MatchString(s.Name) || sent[route] {
			t.Errorf("span name %.80q is not a standard method and a route pattern", s.Name)
		}
	}
	if len(names) > 2*len(methods) {
		t.Errorf("%d span names from two routes, want at most %d", len(names), 2*len(methods))
	}
	if len(spans.GetSpans()) != requests {
		t.Errorf("%d spans, want %d", len(spans.GetSpans()), requests)
	}
	t.Logf("%d requests, %d span names", requests, len(names))
}

// TestRateLimitSpansInRequestTrace: with the rate limit counted in real
// Redis, a limited request's Redis calls are children of the request's span, not
// traces of their own.
func TestRateLimitSpansInRequestTrace(t *testing.T) {
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	rdb, err := redis.Open(redistest.URL(t), false, tp)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	rdb = rdb.WithKeyPrefix(redistest.NewPrefix(t))

	limited := NewRateLimit(quietLog, "create", 4, time.Minute, rdb)
	h := traced(tp)(limited(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusCreated)
	})))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/things", nil))
	if rec.Code != http.StatusCreated {
		t.Fatalf("limited request = %d, want 201", rec.Code)
	}

	var server trace.SpanContext
	for _, s := range spans.GetSpans() {
		if s.SpanKind == trace.SpanKindServer {
			server = s.SpanContext
		}
	}
	if !server.IsValid() {
		t.Fatal("no server span")
	}
	redisSpans := 0
	for _, s := range spans.GetSpans() {
		if s.SpanContext.TraceID() != server.TraceID() {
			t.Errorf("span %q is a trace of its own, not part of the request's", s.Name)
		}
		if s.Name == "evalsha" || s.Name == "eval" || s.Name == "get" {
			redisSpans++
		}
	}
	if redisSpans == 0 {
		t.Errorf("no Redis span among %d spans", len(spans.GetSpans()))
	}
}
