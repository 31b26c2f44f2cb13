package tracing

import (
	"context"

	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"
)

// ChildrenOnly returns a tracer provider whose tracers start spans only
// inside a span already in the context: a request's or a job's. Outside
// any, Start returns the context unchanged and a span that records
// nothing. It is for libraries called both from requests and from
// background work, such as a Redis client: a health check's ping or a
// pool's dial outside any request would otherwise each start a trace of
// its own, as often as the check runs.
func ChildrenOnly(tp trace.TracerProvider) trace.TracerProvider {
	return childrenOnly{tp: tp}
}

type childrenOnly struct {
	embedded.TracerProvider
	tp trace.TracerProvider
}

func (p childrenOnly) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	return childTracer{t: p.tp.Tracer(name, opts...)}
}

type childTracer struct {
	embedded.Tracer
	t trace.Tracer
}

func (t childTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ctx, trace.SpanFromContext(ctx) // a span that records nothing
	}
	return t.t.Start(ctx, name, opts...)
}
