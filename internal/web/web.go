// Package web holds the building blocks of a route's handler: Handle, the
// adapter that lets a handler return its failure; Decode, the one strict
// way to read a JSON body; JSON, the one way to answer with JSON; and
// Error and Problem, which answer a failure as RFC 9457 problem+json with
// the status one table gives its kind. Feature packages build their
// handlers from them, and package httpapi, which holds the routes and the
// middleware, writes its own problems with Problem; web imports neither,
// so both can import it.
package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/dozen-go/dozen/internal/kind"
	"github.com/dozen-go/dozen/internal/logging"
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

// Handle adapts h, a handler that returns its failure instead of writing
// it, to an http.Handler that writes the error h returns with Error; so a
// handler reads top to bottom, and every failure is a return. h returns an
// error only before it has written anything. A building block: every
// handler of a route is written as Handle(log, func(w, r) error {...}).
func Handle(log *slog.Logger, h func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			Error(w, r, log, err)
		}
	})
}

// Error writes err as problem+json, with the status its kind maps to. The
// detail of a client's error is shown as it is; a failure of the service
// is logged, and the client sees only a generic message and the request id
// to quote when reporting it. A building block for middleware that refuses
// a request (Handle calls it for handlers).
func Error(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
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
	Problem(w, r, statusOf[k], detail)
}

// JSON writes v as JSON with the given status. v is marshalled before
// anything is written, so that a value that cannot be encoded is an error
// (a 500 problem through Handle), not a success with an empty body. A
// building block: a handler answers with return JSON(w, status, v).
func JSON(w http.ResponseWriter, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	w.Header()["Content-Type"] = jsonType
	w.WriteHeader(status)
	// The status is sent; a failed write means the client left.
	_, _ = w.Write(append(body, '\n'))
	return nil
}

// StaticJSON returns a handler that answers every request with body, a
// JSON document fixed when the handler is made (the build, the API's
// description).
func StaticJSON(body []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = jsonType
		_, _ = w.Write(body)
	})
}

// RequestIDKey is the log attribute that holds a request's id: the
// request-id middleware puts it in the request's logging.Scope.
const RequestIDKey = "request_id"

// RequestID returns the id of the request being served with ctx, or "".
func RequestID(ctx context.Context) string {
	return logging.Attr(ctx, RequestIDKey)
}

// Header values shared by every response that carries them, so that
// setting one allocates nothing. They are never modified.
var (
	jsonType    = []string{"application/json"}
	problemType = []string{"application/problem+json"}
	noStore     = []string{"no-store"}
)

// problemBuffers holds buffers for problem bodies, which are rendered by
// hand: a 404 is what a scanner costs, so it should cost little.
var problemBuffers = sync.Pool{New: func() any { return new([]byte) }}

// Problem writes an RFC 9457 problem details object: type, title, status,
// and the detail, the instance (the request path) and the request id when
// they are not empty. Error writes a failure through it; middleware that
// answers with a status of its own (404, 405, 429, 503) calls it directly.
func Problem(w http.ResponseWriter, r *http.Request, status int, detail string) {
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
// invalid UTF-8 as U+FFFD. Plain bytes cost one table lookup each and are
// copied in runs: a string with nothing to escape at once.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if jsonPlain[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
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

// jsonPlain marks the bytes appendJSONString copies as they are: printable
// ASCII but the five it escapes. Other bytes take a closer look.
var jsonPlain = func() (t [256]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = !strings.ContainsRune(`"\<>&`, c)
	}
	return t
}()
