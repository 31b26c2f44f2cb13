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
	return slog.New(contextHandler{h}), stop
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

type ctxKey struct{}

// WithAttrs returns a context whose log lines carry attrs, in addition to
// those the context already carries. Every line logged with one of slog's
// Context methods (InfoContext, LogAttrs, ...) and this context gets them:
// that is how each line written while serving a request carries its id.
func WithAttrs(ctx context.Context, attrs ...slog.Attr) context.Context {
	if prev, ok := ctx.Value(ctxKey{}).([]slog.Attr); ok {
		attrs = append(prev[:len(prev):len(prev)], attrs...)
	}
	return context.WithValue(ctx, ctxKey{}, attrs)
}

// Attr returns the value of the attribute named key that WithAttrs stored
// in ctx, or "" when there is none.
func Attr(ctx context.Context, key string) string {
	attrs, _ := ctx.Value(ctxKey{}).([]slog.Attr)
	for i := len(attrs) - 1; i >= 0; i-- {
		if attrs[i].Key == key {
			return attrs[i].Value.String()
		}
	}
	return ""
}

// contextHandler adds the attributes stored by WithAttrs to each record.
type contextHandler struct {
	slog.Handler
}

func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	if attrs, ok := ctx.Value(ctxKey{}).([]slog.Attr); ok {
		r.AddAttrs(attrs...)
	}
	if traceID, spanID, ok := TraceIDs(ctx); ok {
		r.AddAttrs(slog.String(TraceIDKey, traceID), slog.String(SpanIDKey, spanID))
	}
	return h.Handler.Handle(ctx, r)
}

// The keys under which a log line carries the trace and span it was
// written in, as OpenTelemetry's log data model names them.
const (
	TraceIDKey = "trace_id"
	SpanIDKey  = "span_id"
)

// TraceIDs returns, in hex, the ids of the trace and the span that ctx
// carries, and whether it carries one. Lines written with the logger New
// returns get them by themselves; code that writes lines another way,
// such as the access log, adds them with this.
func TraceIDs(ctx context.Context) (traceID, spanID string, ok bool) {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return "", "", false
	}
	return sc.TraceID().String(), sc.SpanID().String(), true
}

func (h contextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return contextHandler{h.Handler.WithAttrs(attrs)}
}

func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{h.Handler.WithGroup(name)}
}

// Discard returns a logger that writes nothing, for tests.
func Discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
