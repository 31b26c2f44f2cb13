package logging

import (
	"context"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/dozen-go/dozen/internal/web"
)

// AccessLog writes the access log: one line per request, through zap's
// typed API on the core under the logger New made, so that the one line
// every request pays for skips slog's generic attributes. A line carries
// what its context gives any other line: the request's id and caller,
// the attributes of WithAttrs and the ids of its trace.
type AccessLog struct {
	core zapcore.Core
}

// NewAccessLog returns the access log that writes where log does. log
// must be one New made, or one derived from it; for any other, the
// access log writes nothing.
func NewAccessLog(log *slog.Logger) *AccessLog {
	if h, ok := log.Handler().(contextHandler); ok {
		return &AccessLog{core: h.core}
	}
	return &AccessLog{core: zapcore.NewNopCore()}
}

// Enabled reports whether a line at level would be written.
func (a *AccessLog) Enabled(level slog.Level) bool {
	return a.core.Enabled(zapLevel(level))
}

// Request is one access-log line.
type Request struct {
	Time     time.Time // when the response was done
	Level    slog.Level
	Method   string
	Route    string // the route pattern that matched
	Path     string
	Status   int
	Bytes    int // of the response body
	Duration time.Duration
	ClientIP netip.Addr // the zero Addr when unknown
	// Aborted marks a response cut off by a panic after it had begun.
	Aborted bool
}

// Write writes r as one line with what ctx gives every line. r is taken
// by value, so that the caller's Request can live on its stack.
func (a *AccessLog) Write(ctx context.Context, r Request) {
	ce := a.core.Check(zapcore.Entry{Level: zapLevel(r.Level), Time: r.Time, Message: "request"}, nil)
	if ce == nil {
		return
	}
	l := lines.Get().(*line)
	l.Request, l.ctx = r, ctx
	l.fields[0] = zap.Inline(l)
	ce.Write(l.fields[:]...)
	l.Request, l.ctx, l.fields[0] = Request{}, nil, zapcore.Field{}
	lines.Put(l)
}

// line is a Request with its context, as zap encodes it, with the field
// that hands it to zap and room to format the client's address. Lines
// are pooled, so that writing one allocates nothing: one is in use only
// for the duration of a Write.
type line struct {
	Request
	ctx    context.Context
	fields [1]zapcore.Field
	ip     [48]byte
}

var lines = sync.Pool{New: func() any { return new(line) }}

// MarshalLogObject writes the line's fields; Write calls it through zap.
func (l *line) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	enc.AddString("method", l.Method)
	enc.AddString("route", l.Route)
	enc.AddString("path", l.Path)
	enc.AddInt("status", l.Status)
	enc.AddInt("bytes", l.Bytes)
	enc.AddDuration("duration", l.Duration)
	b := l.ip[:0]
	if l.ClientIP.IsValid() {
		b = l.ClientIP.AppendTo(b)
	}
	enc.AddByteString("client_ip", b)
	if l.Aborted {
		enc.AddBool("aborted", true)
	}
	if id := web.RequestID(l.ctx); id != "" {
		enc.AddString(web.RequestIDKey, id)
	}
	if c := web.Caller(l.ctx); c != "" {
		enc.AddString(web.CallerKey, c)
	}
	for _, attr := range contextAttrs(l.ctx) {
		zap.Any(attr.Key, attr.Value.Resolve().Any()).AddTo(enc)
	}
	if sc := trace.SpanContextFromContext(l.ctx); sc.IsValid() {
		enc.AddString(TraceIDKey, sc.TraceID().String())
		enc.AddString(SpanIDKey, sc.SpanID().String())
	}
	return nil
}
