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
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
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
// is off. Otherwise spans are batched and exported in the background:
// a collector that is slow or down never holds up the code that ends a
// span, and its failures are logged at most once a minute.
//
// Call shutdown once, last, with a deadline: it exports the spans still
// held and gives up when ctx ends.
func Start(ctx context.Context, lookupEnv func(string) (string, bool), log *slog.Logger, service string) (
	trace.TracerProvider, func(context.Context) error, error) {
	off := func(context.Context) error { return nil }
	get := func(k string) string { v, _ := lookupEnv(k); return strings.TrimSpace(v) }

	if strings.EqualFold(get("OTEL_SDK_DISABLED"), "true") {
		log.Info("tracing off: OTEL_SDK_DISABLED is true")
		return nil, off, nil
	}
	switch exp := get("OTEL_TRACES_EXPORTER"); exp {
	case "", "otlp":
	case "none":
		log.Info("tracing off: OTEL_TRACES_EXPORTER is none")
		return nil, off, nil
	default:
		return nil, nil, fmt.Errorf("tracing: OTEL_TRACES_EXPORTER %q is not supported: use otlp or none", exp)
	}
	endpointVar := "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	endpoint := get(endpointVar)
	if endpoint == "" {
		endpointVar = "OTEL_EXPORTER_OTLP_ENDPOINT"
		endpoint = get(endpointVar)
	}
	if endpoint == "" {
		log.Info("tracing off: no OTEL_EXPORTER_OTLP_ENDPOINT")
		return nil, off, nil
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		// The value itself may hold credentials: name the variable only.
		return nil, nil, fmt.Errorf("tracing: %s is not a URL such as http://collector:4318", endpointVar)
	}

	protocolVar := "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
	protocol := get(protocolVar)
	if protocol == "" {
		protocolVar = "OTEL_EXPORTER_OTLP_PROTOCOL"
		protocol = get(protocolVar)
	}
	var exporter sdktrace.SpanExporter
	switch protocol {
	case "", ProtocolHTTP: // the specification's default
		protocol = ProtocolHTTP
		exporter, err = otlptracehttp.New(ctx)
	case ProtocolGRPC:
		exporter, err = otlptracegrpc.New(ctx)
	default:
		return nil, nil, fmt.Errorf("tracing: %s %q is not supported: use grpc or http/protobuf", protocolVar, protocol)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("tracing: otlp exporter: %w", err)
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
		return nil, nil, fmt.Errorf("tracing: OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}

	// The SDK reports export failures through one process-wide handler.
	otel.SetErrorHandler(&errorLog{log: log, every: time.Minute})
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exporter), // reads OTEL_BSP_*
		sdktrace.WithResource(res),     // the sampler comes from OTEL_TRACES_SAMPLER
	)
	u.User = nil
	log.Info("tracing on: spans exported over OTLP", "protocol", protocol, "endpoint", u.String())
	return tp, tp.Shutdown, nil
}

// errorLog logs the SDK's errors, such as a collector that cannot be
// reached, at most once per interval: while a collector is down, every
// export fails, and one line says so as well as a thousand would.
type errorLog struct {
	log   *slog.Logger
	every time.Duration

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
		"error", err.Error(), "errors_since_last_report", suppressed, "next_report_after", e.every)
}
