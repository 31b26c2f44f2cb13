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
	ch := contextHandler{Handler: h, core: core}
	if cfg.Format != config.LogConsole {
		ch.jsonOut = ws
	}
	return slog.New(ch), stop
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

// Scope is a context that carries attributes for every line logged with
// it or with a context derived from it: that is how each line written
// while serving a request carries the request's id. WithAttrs makes one;
// the type is exported so that a request's middleware can embed it in the
// one struct it allocates per request instead of allocating a context.
type Scope struct {
	context.Context
	attrs []slog.Attr
}

// Init makes s a context derived from parent that carries parent's
// attributes followed by attrs. attrs is kept, not copied. Init is meant
// for a Scope not yet handed to anyone else.
func (s *Scope) Init(parent context.Context, attrs ...slog.Attr) {
	if prev := scopeAttrs(parent); len(prev) > 0 {
		attrs = append(prev[:len(prev):len(prev)], attrs...)
	}
	s.Context, s.attrs = parent, attrs
}

// Add adds attrs to those s carries; attrs is kept, not copied. Like
// Init, it is meant for a Scope not yet handed to anyone else: it spares
// looking up the parent's attributes again, which walks the context chain.
func (s *Scope) Add(attrs ...slog.Attr) {
	if len(s.attrs) == 0 {
		s.attrs = attrs
		return
	}
	s.attrs = append(s.attrs[:len(s.attrs):len(s.attrs)], attrs...)
}

// Value answers for the scope itself; other keys go to the parent.
func (s *Scope) Value(key any) any {
	if key == (ctxKey{}) {
		return s
	}
	return s.Context.Value(key)
}

// scopeAttrs returns the attributes of the innermost Scope in ctx.
func scopeAttrs(ctx context.Context) []slog.Attr {
	if s, ok := ctx.Value(ctxKey{}).(*Scope); ok {
		return s.attrs
	}
	return nil
}

// WithAttrs returns a context whose log lines carry attrs, in addition to
// those the context already carries. Every line logged with one of slog's
// Context methods (InfoContext, LogAttrs, ...) and this context gets them.
// A building block: the template's middleware fills a Scope in place, and a
// handler calls WithAttrs to add what its own lines should carry, such as
// the user or tenant a request acts for.
func WithAttrs(ctx context.Context, attrs ...slog.Attr) context.Context {
	s := &Scope{}
	s.Init(ctx, attrs...)
	return s
}

// Attr returns the value of the attribute named key that a Scope in ctx
// carries, or "" when there is none.
func Attr(ctx context.Context, key string) string {
	attrs := scopeAttrs(ctx)
	for i := len(attrs) - 1; i >= 0; i-- {
		if attrs[i].Key == key {
			return attrs[i].Value.String()
		}
	}
	return ""
}

// contextHandler adds the attributes of the context's Scope, and the ids
// of the trace it is in, to each record.
type contextHandler struct {
	slog.Handler
	// core is the zap core under Handler, for the access log; nil for a
	// handler New did not make.
	core zapcore.Core
	// jsonOut is where core writes, when it writes JSON lines: the access
	// log writes its lines there itself.
	jsonOut zapcore.WriteSyncer
}

func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	r.AddAttrs(scopeAttrs(ctx)...)
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

// WithAttrs and WithGroup drop the core: an access log made from the
// derived logger goes through slog, which keeps the attributes and group.
func (h contextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	h.Handler, h.core, h.jsonOut = h.Handler.WithAttrs(attrs), nil, nil
	return h
}

func (h contextHandler) WithGroup(name string) slog.Handler {
	h.Handler, h.core, h.jsonOut = h.Handler.WithGroup(name), nil, nil
	return h
}
