package httpapi

import (
	"context"
	"net/http"

	"github.com/dozen-go/dozen/internal/web"
	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// traced starts a server span for each request. A request that carries a
// W3C traceparent header continues the caller's trace. The span is named
// after the route pattern ("GET /{code}"), known once the router has
// matched, so that one name stands for one route whatever the path.
//
// It is installed only when tracing is on: with tracing off, requests do
// not pass through it at all.
func traced(tp trace.TracerProvider) func(http.Handler) http.Handler {
	tracer := tp.Tracer("httpapi")
	prop := propagation.TraceContext{}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
			ctx, span := tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer),
				trace.WithAttributes(
					semconv.HTTPRequestMethodKey.String(metricMethod(r.Method)),
					semconv.URLPath(r.URL.Path),
					attribute.String(web.RequestIDKey, web.RequestID(ctx)),
				))
			defer span.End()
			sw := &statusWriter{ResponseWriter: w}
			next.ServeHTTP(sw, r.WithContext(ctx))

			if rctx := chi.RouteContext(ctx); rctx != nil {
				if p := rctx.RoutePattern(); p != "" {
					span.SetName(r.Method + " " + p)
					span.SetAttributes(semconv.HTTPRoute(p))
				}
			}
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			span.SetAttributes(semconv.HTTPResponseStatusCode(status))
			// A server span is an error for 5xx only: a 4xx is the
			// client's mistake, answered as designed.
			if status >= 500 {
				span.SetStatus(codes.Error, http.StatusText(status))
			}
		})
	}
}

// statusWriter captures the status of a response for the span.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush lets streaming handlers flush through the writer.
func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// exemplar returns the labels of an exemplar pointing at the trace that
// ctx carries, or nil when the trace is not sampled (an exemplar would
// point at a trace nobody can look up).
func exemplar(ctx context.Context) prometheus.Labels {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsSampled() {
		return nil
	}
	return prometheus.Labels{"trace_id": sc.TraceID().String()}
}
