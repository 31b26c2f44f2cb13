package logging

import (
	"context"
	"encoding/hex"
	"log/slog"
	"net/netip"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// AccessLog writes the access log: one line per request. It is the one
// line every request pays for, so it skips slog. Under a JSON logger New
// made, a line is appended by hand to a pooled buffer, byte for byte as
// zap's JSON encoder would write it, and handed to the core's writer: its
// fields are fixed, so zap's generic field and encoder machinery was most
// of the line's cost. Under a console logger, or with a context attribute
// of a rarer kind, the line goes to the zap core through zap's typed API.
// A line carries what its context gives any other line: the attributes of
// its Scope (the request id) and the ids of its trace.
type AccessLog struct {
	core zapcore.Core // nil: log is not one New made, and slog writes
	// out is where the core writes JSON lines; nil when the core writes
	// another format.
	out zapcore.WriteSyncer
	log *slog.Logger
	// traced: requests may be in a trace, so the hand-written line looks
	// for one in its context. Without tracing there is none to find, and
	// looking would walk the whole context chain for each line.
	traced bool
}

// NewAccessLog returns the access log that writes where log does. traced
// says whether requests may be in a trace, whose ids each line then
// carries.
func NewAccessLog(log *slog.Logger, traced bool) *AccessLog {
	a := &AccessLog{log: log, traced: traced}
	if h, ok := log.Handler().(contextHandler); ok {
		a.core, a.out = h.core, h.jsonOut
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
	buf    []byte   // the JSON line, when written by hand
}

// maxLineBuf is the largest line buffer kept for reuse, so that one line
// with a huge path does not stay in memory for good.
const maxLineBuf = 16 << 10

var lines = sync.Pool{New: func() any { return new(line) }}

// Write writes r as one line with what ctx gives every line.
func (a *AccessLog) Write(ctx context.Context, r *Request) {
	if a.core == nil {
		a.writeSlog(ctx, r)
		return
	}
	if a.out != nil {
		level := zapLevel(r.Level)
		if !a.core.Enabled(level) {
			return
		}
		l := lines.Get().(*line)
		if b, ok := appendLine(ctx, l.buf[:0], level, r, a.traced); ok {
			// ioCore.Write syncs only above ErrorLevel, which zapLevel
			// never returns; a failed write has nowhere better to go.
			_, _ = a.out.Write(b)
			if cap(b) <= maxLineBuf {
				l.buf = b
			}
			lines.Put(l)
			return
		}
		lines.Put(l)
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

// appendLine appends r to b as one JSON line, as zap's JSON encoder with
// New's configuration writes the entry and fields Write hands the core. It
// reports false, having written nothing of use, when a context attribute
// is of a kind it does not write the way zap would. The line carries the
// ids of ctx's trace when traced.
func appendLine(ctx context.Context, b []byte, level zapcore.Level, r *Request, traced bool) ([]byte, bool) {
	b = append(b, `{"level":"`...)
	b = append(b, level.String()...)
	b = append(b, '"')
	if !r.Time.IsZero() {
		b = append(b, `,"time":"`...)
		b = r.Time.AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
	}
	b = append(b, `,"msg":"request","method":"`...)
	b = appendEscaped(b, r.Method)
	b = append(b, `","route":"`...)
	b = appendEscaped(b, r.Route)
	b = append(b, `","path":"`...)
	b = appendEscaped(b, r.Path)
	b = append(b, `","status":`...)
	b = strconv.AppendInt(b, int64(r.Status), 10)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, int64(r.Bytes), 10)
	b = append(b, `,"duration":`...)
	// SecondsDurationEncoder's arithmetic, which d.Seconds() does not
	// match to the last digit.
	b = strconv.AppendFloat(b, float64(r.Duration)/float64(time.Second), 'f', -1, 64)
	b = append(b, `,"client_ip":"`...)
	if r.ClientIP.IsValid() {
		b = r.ClientIP.AppendTo(b)
	}
	b = append(b, '"')
	if r.Aborted {
		b = append(b, `,"aborted":true`...)
	}
	for _, attr := range scopeAttrs(ctx) {
		b = append(b, `,"`...)
		b = appendEscaped(b, attr.Key)
		b = append(b, `":`...)
		switch v := attr.Value.Resolve(); v.Kind() {
		case slog.KindString:
			b = append(b, '"')
			b = appendEscaped(b, v.String())
			b = append(b, '"')
		case slog.KindInt64:
			b = strconv.AppendInt(b, v.Int64(), 10)
		case slog.KindUint64:
			b = strconv.AppendUint(b, v.Uint64(), 10)
		case slog.KindBool:
			b = strconv.AppendBool(b, v.Bool())
		default:
			return b, false
		}
	}
	if !traced {
		return append(b, "}\n"...), true
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		traceID, spanID := sc.TraceID(), sc.SpanID()
		b = append(b, `,"`+TraceIDKey+`":"`...)
		b = hex.AppendEncode(b, traceID[:])
		b = append(b, `","`+SpanIDKey+`":"`...)
		b = hex.AppendEncode(b, spanID[:])
		b = append(b, '"')
	}
	return append(b, "}\n"...), true
}

// appendEscaped appends s as zap's JSON encoder writes a string's inside:
// quote, backslash and control bytes escaped, invalid UTF-8 replaced by
// \ufffd, everything else as it is. Plain bytes cost one table lookup
// each and are copied in runs: a string with nothing to escape, what every
// line mostly holds, at once.
func appendEscaped(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if zapPlain[c] {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
			b = append(b, s[last:i]...)
			b = append(b, `\ufffd`...)
			i++
			last = i
			continue
		}
		b = append(b, s[last:i]...)
		switch c {
		case '\\', '"':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, `\u00`...)
			b = append(b, hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		last = i
	}
	return append(b, s[last:]...)
}

// zapPlain marks the bytes appendEscaped copies as they are: printable
// ASCII but the quote and the backslash. Other bytes take a closer look.
var zapPlain = func() (t [256]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

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
