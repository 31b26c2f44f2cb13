package httpapi

import (
	"context"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/dozen-go/dozen/internal/web"
)

// traced starts a server span for each request, with otelhttp. A request
// that carries a W3C traceparent header continues the caller's trace
// (the propagators are the process's, see package tracing).
//
// Span names come from a bounded set, so that a client cannot choose
// them: the method, one of the standard methods or "HTTP" for any other,
// and the chi route pattern ("GET /{code}"), set once the router has
// matched; a request that matched no route is named by its method alone.
//
// It is installed only when tracing is on: with tracing off, requests do
// not pass through it at all.
func traced(tp trace.TracerProvider) func(http.Handler) http.Handler {
	// otelhttp names the span when it starts, before routing, and again
	// at the end if the request it handed down has a Pattern, which chi
	// sets only on the request it routes (a copy, when a middleware in
	// between made one): the handler below names it after routing.
	mw := otelhttp.NewMiddleware("", otelhttp.WithTracerProvider(tp),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return spanName(r.Method, routePattern(r)) }))
	return func(next http.Handler) http.Handler {
		return mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r)
			span := trace.SpanFromContext(r.Context())
			route := routePattern(r)
			span.SetName(spanName(r.Method, route))
			attrs := []attribute.KeyValue{attribute.String(web.RequestIDKey, web.RequestID(r.Context()))}
			if route != "" {
				attrs = append(attrs, semconv.HTTPRoute(route))
			}
			span.SetAttributes(attrs...)
		}))
	}
}

// routePattern returns the chi route pattern r matched, or "" before
// routing or when it matched none.
func routePattern(r *http.Request) string {
	if rctx := chi.RouteContext(r.Context()); rctx != nil {
		return rctx.RoutePattern()
	}
	return ""
}

// spanName returns the name of a request's span from its method and its
// route pattern ("" when it matched none), as the HTTP semantic
// conventions have it: a method outside the standard ones is "HTTP".
func spanName(method, route string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
	default:
		method = "HTTP"
	}
	if route == "" {
		return method
	}
	return method + " " + route
}

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
