package httpapi

import (
	"log/slog"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// BenchmarkTracedStack is BenchmarkStack's full stack with tracing on: a
// sampled server span per request, no exporter. Against "full" it shows
// what tracing costs a request; against the same benchmark on another
// commit, what one tracing middleware costs against another.
func BenchmarkTracedStack(b *testing.B) {
	d := benchDeps(b, slog.LevelInfo)
	tp := sdktrace.NewTracerProvider()
	b.Cleanup(func() { _ = tp.Shutdown(b.Context()) })
	d.Tracer = tp
	r := newRouter(d)
	r.With(shed(d.Config.MaxInFlight)).Get("/ok", okHandler)
	serveLoop(b, r, "GET", "/ok")
}
