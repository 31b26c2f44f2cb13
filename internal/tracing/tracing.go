// Package tracing sets up OpenTelemetry tracing from the standard OTEL_*
// variables, the same ones every OpenTelemetry SDK reads, so that a
// platform's or a collector's documentation applies unchanged.
//
// Tracing is on when an OTLP endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT
// or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) and OTEL_SDK_DISABLED is not true.
// Otherwise Start returns a nil provider: the process installs no tracing
// at all, so it costs nothing on the hot path.
//
// This package decides on and off from the lookup function it is given;
// the SDK then reads the rest of its settings (endpoint, headers, timeout,
// sampler, resource attributes) from the process environment itself, as
// the OpenTelemetry specification has it. It is the one place besides
// internal/config where settings come from the environment.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// The protocols OTEL_EXPORTER_OTLP_PROTOCOL may name.
const (
	ProtocolGRPC = "grpc"
	ProtocolHTTP = "http/protobuf"
)

// Start sets up tracing for the process named service (its service.name
// unless OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES says otherwise).
// It returns a nil provider and a shutdown that does nothing when tracing
// is off. Otherwise every OTEL_* variable the SDK reads is checked first
// (see checkEnv), the W3C propagators that OTEL_PROPAGATORS names are
// installed process-wide, and spans are batched and exported in the
// background: a collector that is slow or down never holds up the code
// that ends a span, and its failures are logged at most once a minute.
//
// No log line or error quotes the OTLP headers, nor an endpoint's query
// or user info: they are where collectors' credentials go.
//
// Call shutdown once, last, with a deadline: it exports the spans still
// held and returns by the deadline whatever the collector does.
func Start(ctx context.Context, lookupEnv func(string) (string, bool), log *slog.Logger, service string) (
	trace.TracerProvider, func(context.Context) error, error) {
	off := func(context.Context) error { return nil }
	get := func(k string) string { v, _ := lookupEnv(k); return strings.TrimSpace(v) }

	switch v := get("OTEL_SDK_DISABLED"); {
	case strings.EqualFold(v, "true"):
		log.Info("tracing off: OTEL_SDK_DISABLED is true")
		return nil, off, nil
	case v != "" && !strings.EqualFold(v, "false"):
		return nil, nil, errors.New("tracing: OTEL_SDK_DISABLED must be true or false")
	}
	switch exp := get("OTEL_TRACES_EXPORTER"); exp {
	case "", "otlp":
	case "none":
		log.Info("tracing off: OTEL_TRACES_EXPORTER is none")
		return nil, off, nil
	default:
		return nil, nil, errors.New("tracing: OTEL_TRACES_EXPORTER must be otlp or none")
	}
	endpointVar := tracesPrefix + "ENDPOINT"
	endpoint := get(endpointVar)
	if endpoint == "" {
		endpointVar = otlpPrefix + "ENDPOINT"
		endpoint = get(endpointVar)
	}
	if endpoint == "" {
		log.Info("tracing off: no OTEL_EXPORTER_OTLP_ENDPOINT")
		return nil, off, nil
	}
	if err := checkEnv(lookupEnv); err != nil {
		return nil, nil, fmt.Errorf("tracing: %w", err)
	}
	u, _ := url.Parse(endpoint) // checked

	// The SDK logs what it cannot parse with the value itself, and its
	// exporters' errors can hold the endpoint's URL: the checks above
	// leave the SDK nothing to parse wrong, and what it reports still
	// goes through secrets.redact.
	secrets := collectSecrets(get)
	otel.SetLogger(logr.New(&sdkLog{log: log, secrets: secrets}))
	otel.SetErrorHandler(&errorLog{log: log, every: time.Minute, secrets: secrets})

	protocol := get(tracesPrefix + "PROTOCOL")
	if protocol == "" {
		protocol = get(otlpPrefix + "PROTOCOL")
	}
	var exporter sdktrace.SpanExporter
	var err error
	switch protocol {
	case "", ProtocolHTTP: // the specification's default
		protocol = ProtocolHTTP
		exporter, err = otlptracehttp.New(ctx)
	case ProtocolGRPC:
		exporter, err = otlptracegrpc.New(ctx)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("tracing: otlp exporter: %s", secrets.redact(err.Error()))
	}

	// Later options win: the process's own name first, then what the
	// environment says.
	res, err := resource.New(ctx,
		resource.WithAttributes(semconv.ServiceName(service)),
		resource.WithTelemetrySDK(),
		resource.WithProcessExecutableName(),
		resource.WithFromEnv(),
	)
	if err != nil {
		// The SDK's message quotes the attribute it could not parse.
		return nil, nil, errors.New("tracing: OTEL_RESOURCE_ATTRIBUTES must be a list of key=value pairs, values URL-encoded")
	}

	otel.SetTextMapPropagator(propagators(get("OTEL_PROPAGATORS")))
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exporter), // reads OTEL_BSP_*
		sdktrace.WithResource(res),     // the sampler comes from OTEL_TRACES_SAMPLER
	)
	log.Info("tracing on: spans exported over OTLP", "protocol", protocol,
		"endpoint", (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String())
	return tp, boundedShutdown(tp.Shutdown), nil
}

// boundedShutdown returns shutdown made to return by ctx's deadline even
// if the SDK's own shutdown does not: the stop budget of the process
// bounds span export, whatever the exporter does with its connection.
func boundedShutdown(shutdown func(context.Context) error) func(context.Context) error {
	return func(ctx context.Context) error {
		done := make(chan error, 1)
		go func() { done <- shutdown(ctx) }()
		select {
		case err := <-done:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// propagators returns the propagator of an OTEL_PROPAGATORS value
// (checked): W3C trace context and baggage unless it says otherwise.
func propagators(v string) propagation.TextMapPropagator {
	if v == "" {
		v = "tracecontext,baggage"
	}
	var ps []propagation.TextMapPropagator
	for _, name := range strings.Split(v, ",") {
		switch strings.TrimSpace(name) {
		case "tracecontext":
			ps = append(ps, propagation.TraceContext{})
		case "baggage":
			ps = append(ps, propagation.Baggage{})
		}
	}
	return propagation.NewCompositeTextMapPropagator(ps...)
}

// secrets are the parts of the OTLP settings that must not reach a log:
// the headers, raw and decoded, and the endpoints' query and user info.
type secrets []string

func collectSecrets(get func(string) string) secrets {
	var s secrets
	add := func(v string) {
		if v = strings.TrimSpace(v); v != "" {
			s = append(s, v)
		}
	}
	for _, prefix := range []string{otlpPrefix, tracesPrefix} {
		headers := get(prefix + "HEADERS")
		add(headers)
		for pair := range strings.SplitSeq(headers, ",") {
			_, v, _ := strings.Cut(pair, "=")
			add(v)
			if d, err := url.PathUnescape(v); err == nil {
				add(d)
			}
		}
		if u, err := url.Parse(get(prefix + "ENDPOINT")); err == nil {
			add(u.RawQuery)
			for _, vs := range u.Query() {
				for _, v := range vs {
					add(v)
				}
			}
			if u.User != nil {
				add(u.User.String())
				p, _ := u.User.Password()
				add(p)
				add(u.User.Username())
			}
		}
	}
	// Longest first, so that a secret holding another goes whole.
	slices.SortFunc(s, func(a, b string) int { return len(b) - len(a) })
	return s
}

// redact returns msg with every secret in it replaced.
func (s secrets) redact(msg string) string {
	for _, v := range s {
		msg = strings.ReplaceAll(msg, v, "[redacted]")
	}
	return msg
}

// sdkLog is the SDK's logger (a logr.LogSink): it logs the SDK's errors
// by their message, redacted, without the key-value pairs, which quote
// the input the SDK could not parse; the SDK's info and debug lines are
// dropped.
type sdkLog struct {
	log     *slog.Logger
	secrets secrets
}

func (*sdkLog) Init(logr.RuntimeInfo)            {}
func (*sdkLog) Enabled(int) bool                 { return false }
func (*sdkLog) Info(int, string, ...any)         {}
func (l *sdkLog) WithValues(...any) logr.LogSink { return l }
func (l *sdkLog) WithName(string) logr.LogSink   { return l }
func (l *sdkLog) Error(err error, msg string, _ ...any) {
	l.log.Warn("tracing: " + l.secrets.redact(msg))
}

// errorLog logs the SDK's errors, such as a collector that cannot be
// reached, at most once per interval: while a collector is down, every
// export fails, and one line says so as well as a thousand would.
type errorLog struct {
	log     *slog.Logger
	every   time.Duration
	secrets secrets

	mu         sync.Mutex
	last       time.Time
	suppressed int
}

// Handle implements otel.ErrorHandler.
func (e *errorLog) Handle(err error) {
	e.mu.Lock()
	now := time.Now()
	if !e.last.IsZero() && now.Sub(e.last) < e.every {
		e.suppressed++
		e.mu.Unlock()
		return
	}
	suppressed := e.suppressed
	e.last, e.suppressed = now, 0
	e.mu.Unlock()
	e.log.Warn("tracing: spans could not be exported; requests are unaffected, spans are dropped",
		"error", e.secrets.redact(err.Error()), "errors_since_last_report", suppressed, "next_report_after", e.every)
}
