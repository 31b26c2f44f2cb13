package tracing

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func TestChildrenOnly(t *testing.T) {
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	defer tp.Shutdown(context.Background())
	tracer := ChildrenOnly(tp).Tracer("test")

	ctx, orphan := tracer.Start(context.Background(), "outside")
	if orphan.IsRecording() || ctx != context.Background() {
		t.Error("a span started outside any span records, or changes the context")
	}
	orphan.End()

	ctx, parent := tp.Tracer("test").Start(context.Background(), "request")
	_, child := tracer.Start(ctx, "inside")
	child.End()
	parent.End()

	got := spans.GetSpans()
	if len(got) != 2 || got[0].Name != "inside" || got[0].Parent.SpanID() != parent.SpanContext().SpanID() {
		t.Errorf("spans = %v, want the child under the request, then the request", got)
	}
}
