package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/dozen-go/dozen/internal/kind"
)

// statusOf is the one table from kinds of failure to HTTP statuses.
var statusOf = [...]int{
	kind.Internal:        http.StatusInternalServerError,
	kind.Invalid:         http.StatusBadRequest,
	kind.Unauthenticated: http.StatusUnauthorized,
	kind.NotFound:        http.StatusNotFound,
	kind.Conflict:        http.StatusConflict,
	kind.Gone:            http.StatusGone,
	kind.TooLarge:        http.StatusRequestEntityTooLarge,
	kind.Unsupported:     http.StatusUnsupportedMediaType,
	kind.Unprocessable:   http.StatusUnprocessableEntity,
	kind.Unavailable:     http.StatusServiceUnavailable,
	// The client went away (the access log counts it as 499) or shutdown
	// cut the request off: a client still there is told to retry.
	kind.Canceled: http.StatusServiceUnavailable,
	kind.Timeout:  http.StatusServiceUnavailable,
}

// genericDetail is what a client is told of a failure that is not its
// own, whatever the error says: the log has the rest.
var genericDetail = [...]string{
	kind.Internal:    "internal error; quote the request id when reporting it",
	kind.Unavailable: "a backing service is unavailable; try again shortly",
	kind.Canceled:    "the request was cancelled; try again",
	kind.Timeout:     "the request took too long; try again",
}

// logLevel is how a failure of the service is logged, by kind.
var logLevel = map[kind.Kind]slog.Level{
	kind.Internal:    slog.LevelError,
	kind.Unavailable: slog.LevelWarn,
	kind.Timeout:     slog.LevelWarn,
	kind.Canceled:    slog.LevelDebug,
}

// handlerFunc is a handler that returns its failure instead of writing
// it, so that it reads top to bottom: every failure is a return.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle adapts h to an http.Handler that writes the error h returns with
// respondError. h returns an error only before it has written anything.
func handle(log *slog.Logger, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			respondError(w, r, log, err)
		}
	})
}

// respondError writes err as problem+json, with the status its kind maps
// to. The detail of a client's error is shown as it is; a failure of the
// service is logged, and the client sees only a generic message and the
// request id to quote when reporting it.
func respondError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	k := kind.Of(err)
	if errors.Is(r.Context().Err(), context.Canceled) {
		k = kind.Canceled // whatever the error: the request was given up on
	}
	// A client's own error needs no line of its own: the access log has
	// the status.
	if level, ok := logLevel[k]; ok {
		log.LogAttrs(r.Context(), level, "request failed", slog.String("kind", k.String()), slog.String("error", err.Error()))
	}
	detail := kind.Detail(err)
	if generic := genericDetail[k]; generic != "" && (k != kind.Unavailable || detail == "") {
		detail = generic
	}
	if (k == kind.Unavailable || k == kind.Canceled) && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "1")
	}
	writeProblem(w, r, statusOf[k], detail)
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
