package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/dozen-go/dozen/internal/store"
)

// clientError is an error whose message is written for the client: it
// names what was wrong with the request and nothing about the server.
type clientError struct {
	status int
	detail string
}

func (e *clientError) Error() string { return e.detail }

// errorf returns a clientError with the given status.
func errorf(status int, format string, args ...any) error {
	return &clientError{status: status, detail: fmt.Sprintf(format, args...)}
}

// respondError writes err as problem+json. A clientError is shown as it
// is; anything else is logged and the client sees only a generic message
// and the request id to quote when reporting it.
func respondError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	var ce *clientError
	switch {
	case errors.As(err, &ce):
		writeProblem(w, r, ce.status, ce.detail)
	case errors.Is(r.Context().Err(), context.Canceled):
		// The client went away, or shutdown gave up on the request: no
		// server fault. The access log and the metrics count it as 499;
		// a client still there (shutdown) is told to retry.
		log.LogAttrs(r.Context(), slog.LevelDebug, "request cancelled", slog.String("error", err.Error()))
		w.Header().Set("Retry-After", "1")
		writeProblem(w, r, http.StatusServiceUnavailable, "the request was cancelled; try again")
	case errors.Is(err, store.ErrUnavailable):
		// The database is down or dropped the connection; the pool
		// reconnects by itself, so the client may retry shortly.
		log.LogAttrs(r.Context(), slog.LevelWarn, "database unavailable", slog.String("error", err.Error()))
		w.Header().Set("Retry-After", "1")
		writeProblem(w, r, http.StatusServiceUnavailable, "a backing service is unavailable; try again shortly")
	case errors.Is(err, context.DeadlineExceeded):
		log.LogAttrs(r.Context(), slog.LevelWarn, "request timed out", slog.String("error", err.Error()))
		writeProblem(w, r, http.StatusServiceUnavailable, "the request took too long; try again")
	default:
		log.LogAttrs(r.Context(), slog.LevelError, "request failed", slog.String("error", err.Error()))
		writeProblem(w, r, http.StatusInternalServerError, "internal error; quote the request id when reporting it")
	}
}

// Header values of every problem response. They are never modified.
var (
	problemType = []string{"application/problem+json"}
	noStore     = []string{"no-store"}
)

// problemBuffers holds buffers for problem bodies, which are rendered by
// hand: a 404 is what a scanner costs, so it should cost little.
var problemBuffers = sync.Pool{New: func() any { return new([]byte) }}

// writeProblem writes an RFC 9457 problem details object: type, title,
// status, and the detail, the instance (the request path) and the request
// id when they are not empty.
func writeProblem(w http.ResponseWriter, r *http.Request, status int, detail string) {
	h := w.Header()
	h["Content-Type"] = problemType
	h["Cache-Control"] = noStore
	w.WriteHeader(status)
	buf := problemBuffers.Get().(*[]byte)
	b := append((*buf)[:0], `{"type":"about:blank","title":`...)
	b = appendJSONString(b, http.StatusText(status))
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	for _, f := range [...]struct{ key, value string }{
		{`,"detail":`, detail}, {`,"instance":`, r.URL.Path}, {`,"request_id":`, RequestID(r.Context())},
	} {
		if f.value != "" {
			b = appendJSONString(append(b, f.key...), f.value)
		}
	}
	b = append(b, "}\n"...)
	// The status is already sent; a failed write means the client left.
	_, _ = w.Write(b)
	if cap(b) <= 64<<10 { // a huge path's buffer is left to the collector
		*buf = b
		problemBuffers.Put(buf)
	}
}

// appendJSONString appends s as a JSON string, escaped as encoding/json
// escapes it: quotes, backslashes and control characters; <, > and & (so
// the body is safe to embed in HTML); U+2028 and U+2029; and each byte of
// invalid UTF-8 as U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= ' ' && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(append(b, s[start:i]...), `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(append(b, s[start:i]...), '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(append(b, s[start:]...), '"')
}

// problemHandler answers every request with the same problem.
func problemHandler(status int, detail string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, status, detail)
	}
}
