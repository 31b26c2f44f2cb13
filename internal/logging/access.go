package logging

import (
	"context"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// AccessLog writes the access log: one line per request. It is the one
// line every request pays for, so it skips slog: each line is built with
// zap's typed API and handed straight to the zap core under the logger New
// made, which encodes it without reflection and without allocating. A
// line carries what its context gives any other line: the attributes of
// its Scope (the request id) and the ids of its trace.
type AccessLog struct {
	core zapcore.Core // nil: log is not one New made, and slog writes
	log  *slog.Logger
}

// NewAccessLog returns the access log that writes where log does.
func NewAccessLog(log *slog.Logger) *AccessLog {
	a := &AccessLog{log: log}
	if h, ok := log.Handler().(contextHandler); ok {
		a.core = h.core
	}
	return a
}

// Enabled reports whether a line at level would be written.
func (a *AccessLog) Enabled(ctx context.Context, level slog.Level) bool {
	if a.core != nil {
		return a.core.Enabled(zapLevel(level))
	}
	return a.log.Enabled(ctx, level)
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

// line is a Request being written, with the scratch space that lets
// writing it allocate nothing. Lines are pooled: one is in use only for
// the duration of a Write.
type line struct {
	Request
	ctx    context.Context
	fields [1]zapcore.Field
	ip     [48]byte // formatted ClientIP
}

var lines = sync.Pool{New: func() any { return new(line) }}

// Write writes r as one line with what ctx gives every line.
func (a *AccessLog) Write(ctx context.Context, r *Request) {
	if a.core == nil {
		a.writeSlog(ctx, r)
		return
	}
	ce := a.core.Check(zapcore.Entry{Level: zapLevel(r.Level), Time: r.Time, Message: "request"}, nil)
	if ce == nil {
		return
	}
	l := lines.Get().(*line)
	l.Request, l.ctx = *r, ctx
	l.fields[0] = zap.Inline(l)
	ce.Write(l.fields[:]...)
	l.Request, l.ctx, l.fields[0] = Request{}, nil, zapcore.Field{}
	lines.Put(l)
}

// MarshalLogObject writes the line's fields; Write calls it through zap.
func (l *line) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	enc.AddString("method", l.Method)
	enc.AddString("route", l.Route)
	enc.AddString("path", l.Path)
	enc.AddInt("status", l.Status)
	enc.AddInt("bytes", l.Bytes)
	enc.AddDuration("duration", l.Duration)
	ip := l.ip[:0]
	if l.ClientIP.IsValid() {
		ip = l.ClientIP.AppendTo(ip)
	}
	enc.AddByteString("client_ip", ip)
	if l.Aborted {
		enc.AddBool("aborted", true)
	}
	for _, attr := range scopeAttrs(l.ctx) {
		addAttr(enc, attr)
	}
	if traceID, spanID, ok := TraceIDs(l.ctx); ok {
		enc.AddString(TraceIDKey, traceID)
		enc.AddString(SpanIDKey, spanID)
	}
	return nil
}

// addAttr writes a context attribute with zap's typed API. The kinds a
// request's context carries (ids, counts) are written as themselves;
// anything rarer goes through zap's reflection-based encoding.
func addAttr(enc zapcore.ObjectEncoder, attr slog.Attr) {
	v := attr.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		enc.AddString(attr.Key, v.String())
	case slog.KindInt64:
		enc.AddInt64(attr.Key, v.Int64())
	case slog.KindUint64:
		enc.AddUint64(attr.Key, v.Uint64())
	case slog.KindBool:
		enc.AddBool(attr.Key, v.Bool())
	case slog.KindFloat64:
		enc.AddFloat64(attr.Key, v.Float64())
	case slog.KindDuration:
		enc.AddDuration(attr.Key, v.Duration())
	case slog.KindTime:
		enc.AddTime(attr.Key, v.Time())
	default:
		_ = enc.AddReflected(attr.Key, v.Any()) // a value that cannot be encoded is left out
	}
}

// writeSlog writes r through slog, for a logger New did not make.
func (a *AccessLog) writeSlog(ctx context.Context, r *Request) {
	client := ""
	if r.ClientIP.IsValid() {
		client = r.ClientIP.String()
	}
	attrs := []slog.Attr{
		slog.String("method", r.Method),
		slog.String("route", r.Route),
		slog.String("path", r.Path),
		slog.Int("status", r.Status),
		slog.Int("bytes", r.Bytes),
		slog.Duration("duration", r.Duration),
		slog.String("client_ip", client),
	}
	if r.Aborted {
		attrs = append(attrs, slog.Bool("aborted", true))
	}
	h := a.log.Handler()
	rec := slog.NewRecord(r.Time, r.Level, "request", 0)
	rec.AddAttrs(attrs...)
	_ = h.Handle(ctx, rec) // a failed log write has nowhere better to go
}
