// Package logging builds the service's logger: the log/slog API over a zap
// core, writing one JSON event per line to stdout (factor XI). Code calls
// slog only; zap is the fast encoder and the write buffer behind it.
package logging

import (
	"context"
	"io"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"
	"go.uber.org/zap/exp/zapslog"
	"go.uber.org/zap/zapcore"

	"github.com/dozen-go/dozen/internal/config"
	"github.com/dozen-go/dozen/internal/web"
)

// bufferSize is how many bytes of log lines are held before a write, when
// writes are batched. A full buffer is written at once.
const bufferSize = 256 << 10

// New returns a logger writing to w as cfg says, and a function that writes
// out whatever is buffered and stops the flush timer. Call it last, after
// everything else has stopped logging.
//
// When cfg.FlushInterval is positive, lines are batched and written at
// least that often. One write(2) per line is most of what a per-request
// access log costs, so batching is what makes it cheap; the price is that
// a crash loses at most FlushInterval of log lines.
func New(w io.Writer, cfg config.Log) (*slog.Logger, func() error) {
	enc := zapcore.EncoderConfig{
		TimeKey:        "time",
		LevelKey:       "level",
		MessageKey:     "msg",
		StacktraceKey:  "stack",
		LineEnding:     zapcore.DefaultLineEnding,
		EncodeLevel:    zapcore.LowercaseLevelEncoder,
		EncodeTime:     zapcore.RFC3339NanoTimeEncoder,
		EncodeDuration: zapcore.SecondsDurationEncoder,
	}
	var encoder zapcore.Encoder
	if cfg.Format == config.LogConsole {
		enc.EncodeLevel = zapcore.CapitalLevelEncoder
		enc.EncodeTime = zapcore.TimeEncoderOfLayout(time.TimeOnly + ".000")
		enc.EncodeDuration = zapcore.StringDurationEncoder
		encoder = zapcore.NewConsoleEncoder(enc)
	} else {
		encoder = zapcore.NewJSONEncoder(enc)
	}

	ws := zapcore.Lock(zapcore.AddSync(w))
	stop := func() error { return nil }
	if cfg.FlushInterval > 0 {
		b := &zapcore.BufferedWriteSyncer{WS: zapcore.AddSync(w), Size: bufferSize, FlushInterval: cfg.FlushInterval}
		ws, stop = b, b.Stop
	}

	core := zapcore.NewCore(encoder, ws, zapLevel(cfg.Level))
	h := zapslog.NewHandler(core, zapslog.AddStacktraceAt(slog.LevelError+4))
	return slog.New(contextHandler{Handler: h, core: core}), stop
}

// zapLevel maps a slog level onto the zap level that enables it.
func zapLevel(l slog.Level) zapcore.Level {
	switch {
	case l <= slog.LevelDebug:
		return zap.DebugLevel
	case l <= slog.LevelInfo:
		return zap.InfoLevel
	case l <= slog.LevelWarn:
		return zap.WarnLevel
	}
	return zap.ErrorLevel
}

type attrsKey struct{}

// WithAttrs returns a context whose log lines carry attrs, in addition to
// those the context already carries. Every line logged with one of slog's
// Context methods (InfoContext, LogAttrs, ...) and this context gets them,
// the access line included. A building block: a handler calls it to add
// what its own lines should carry, such as the tenant a request acts for.
// The attributes are for the log only: a value the code needs travels as
// a typed context value of its own, as the request id does.
func WithAttrs(ctx context.Context, attrs ...slog.Attr) context.Context {
	if prev := contextAttrs(ctx); len(prev) > 0 {
		attrs = append(prev[:len(prev):len(prev)], attrs...)
	}
	return context.WithValue(ctx, attrsKey{}, attrs)
}

// contextAttrs returns the attributes WithAttrs put in ctx.
func contextAttrs(ctx context.Context) []slog.Attr {
	attrs, _ := ctx.Value(attrsKey{}).([]slog.Attr)
	return attrs
}

// contextHandler decorates each record with what its context carries:
// the request's id and caller, the attributes of WithAttrs, and the ids
// of the trace the line was written in.
type contextHandler struct {
	slog.Handler
	// core is the zap core under Handler, for the access log, with the
	// attributes and groups of the logger's With and WithGroup.
	core zapcore.Core
}

func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := web.RequestID(ctx); id != "" {
		r.AddAttrs(slog.String(web.RequestIDKey, id))
	}
	if c := web.Caller(ctx); c != "" {
		r.AddAttrs(slog.String(web.CallerKey, c))
	}
	r.AddAttrs(contextAttrs(ctx)...)
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String(TraceIDKey, sc.TraceID().String()), slog.String(SpanIDKey, sc.SpanID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

// The keys under which a log line carries the trace and span it was
// written in, as OpenTelemetry's log data model names them.
const (
	TraceIDKey = "trace_id"
	SpanIDKey  = "span_id"
)

func (h contextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	fields := make([]zapcore.Field, len(attrs))
	for i, a := range attrs {
		fields[i] = zap.Any(a.Key, a.Value.Resolve().Any())
	}
	h.Handler, h.core = h.Handler.WithAttrs(attrs), h.core.With(fields)
	return h
}

func (h contextHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h.Handler, h.core = h.Handler.WithGroup(name), h.core.With([]zapcore.Field{zap.Namespace(name)})
	return h
}
