// Package web holds the building blocks of a route's handler: Handle, the
// adapter that lets a handler return its failure; Decode, the one strict
// way to read a JSON body; JSON, the one way to answer with JSON; and
// Error and Problem, which answer a failure as RFC 9457 problem+json with
// the status one table gives its kind; and the request's own values
// (its id, its caller) as typed context values. Feature packages build their
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

	"github.com/dozen-go/dozen/internal/kind"
)

// failure is how the service answers one kind of failure.
type failure struct {
	status int    // the response's status
	title  string // the problem's title: the status's name
	// logged is the status the access log records, when not status.
	logged int
	// detail is what the client is told when the error carries no detail
	// of its own, or always, when hide is set: a failure that is not the
	// client's is not explained to it (the log has the rest).
	detail string
	hide   bool
	// retry: the answer carries Retry-After (1 second, unless the code
	// that refused the request set it).
	retry bool
	// level is how the failure is logged, when log is set; a client's own
	// error needs no line of its own: the access log has the status.
	level slog.Level
	log   bool
}

// failures is the one table from kinds of failure to what a client is
// told: every error status the service writes, from handlers and
// middleware alike, comes from a kind through it.
var failures = [...]failure{
	kind.Internal: {status: http.StatusInternalServerError, title: "Internal Server Error",
		detail: "internal error; quote the request id when reporting it", hide: true, level: slog.LevelError, log: true},
	kind.Invalid:         {status: http.StatusBadRequest, title: "Bad Request"},
	kind.Unauthenticated: {status: http.StatusUnauthorized, title: "Unauthorized"},
	kind.NotFound:        {status: http.StatusNotFound, title: "Not Found", detail: "no such resource"},
	kind.Conflict:        {status: http.StatusConflict, title: "Conflict"},
	kind.Gone:            {status: http.StatusGone, title: "Gone"},
	kind.NotAllowed:      {status: http.StatusMethodNotAllowed, title: "Method Not Allowed", detail: "method not allowed on this resource"},
	kind.TooLarge:        {status: http.StatusRequestEntityTooLarge, title: "Content Too Large"},
	kind.Unsupported:     {status: http.StatusUnsupportedMediaType, title: "Unsupported Media Type"},
	kind.Unprocessable:   {status: http.StatusUnprocessableEntity, title: "Unprocessable Content"},
	kind.Unavailable: {status: http.StatusServiceUnavailable, title: "Service Unavailable",
		detail: "a backing service is unavailable; try again shortly", retry: true, level: slog.LevelWarn, log: true},
	// The client went away (the access log records 499, the common
	// convention for "client closed request", which keeps these out of
	// the 5xx) or shutdown cut the request off: a client still there is
	// told to retry.
	kind.Canceled: {status: http.StatusServiceUnavailable, title: "Service Unavailable", logged: 499,
		detail: "the request was cancelled; try again", hide: true, retry: true, level: slog.LevelDebug, log: true},
	kind.Timeout: {status: http.StatusServiceUnavailable, title: "Service Unavailable",
		detail: "the request took too long; try again", hide: true, level: slog.LevelWarn, log: true},
	kind.RateLimited: {status: http.StatusTooManyRequests, title: "Too Many Requests",
		detail: "rate limit reached; retry after the Retry-After header's seconds", retry: true},
}

// failureOf returns the table's entry for k; a kind the table lacks is
// answered as Internal.
func failureOf(k kind.Kind) failure {
	if k < 0 || int(k) >= len(failures) || failures[k].status == 0 {
		return failures[kind.Internal]
	}
	return failures[k]
}

// Status returns the status a failure of kind k is answered with, and
// the status the access log records for it: the same, but for Canceled.
func Status(k kind.Kind) (sent, logged int) {
	f := failureOf(k)
	if f.logged != 0 {
		return f.status, f.logged
	}
	return f.status, f.status
}

// Title returns the title of the problem a failure of kind k is answered
// with.
func Title(k kind.Kind) string { return failureOf(k).title }

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

// Error writes err as problem+json, as Problem does, and logs a failure
// of the service at its kind's level. The detail of a client's error is
// shown as it is; for a failure of the service, the client sees only a
// generic message and the request id to quote when reporting it. A
// building block for middleware that refuses a request after a failure
// of its own (Handle calls it for handlers).
func Error(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	k := kindOf(r, err)
	if f := failureOf(k); f.log {
		log.LogAttrs(r.Context(), f.level, "request failed", slog.String("kind", k.String()), slog.String("error", err.Error()))
	}
	writeProblem(w, r, k, err)
}

// Problem writes err as an RFC 9457 problem details object, with the
// status, title and, where the table says so, the detail and Retry-After
// of its kind, and logs nothing. Middleware that refuses a request (404,
// 405, 413, 429, 503 at capacity) answers with it.
func Problem(w http.ResponseWriter, r *http.Request, err error) {
	writeProblem(w, r, kindOf(r, err), err)
}

// kindOf returns the kind of err, or Canceled when the request was given
// up on, whatever the error.
func kindOf(r *http.Request, err error) kind.Kind {
	if errors.Is(r.Context().Err(), context.Canceled) {
		return kind.Canceled
	}
	return kind.Of(err)
}

// problem is an RFC 9457 problem details object, members in its order;
// the request id is an extension member.
type problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail,omitempty"`
	Instance  string `json:"instance,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

func writeProblem(w http.ResponseWriter, r *http.Request, k kind.Kind, err error) {
	f := failureOf(k)
	detail := kind.Detail(err)
	if f.hide || detail == "" {
		detail = f.detail
	}
	h := w.Header()
	if f.retry && h.Get("Retry-After") == "" {
		h.Set("Retry-After", "1")
	}
	h["Content-Type"] = problemType
	h["Cache-Control"] = noStore
	w.WriteHeader(f.status)
	// Strings and an int always encode; the status is already sent, and
	// a failed write means the client left.
	_ = json.NewEncoder(w).Encode(problem{
		Type: "about:blank", Title: f.title, Status: f.status,
		Detail: detail, Instance: r.URL.Path, RequestID: RequestID(r.Context()),
	})
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

// RequestIDKey is the log attribute under which a line carries the id
// of the request it was written for.
const RequestIDKey = "request_id"

// CallerKey is the log attribute under which a line carries who the
// request acts for.
const CallerKey = "caller"

type requestIDKey struct{}

// WithRequestID returns ctx carrying the id of the request it serves.
// The request-id middleware calls it once per request.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the id of the request being served with ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

type callerKey struct{}

// WithCaller returns ctx carrying who the request acts for, as the
// middleware that authenticated it names them: a stable name for the
// credential (such as a hash of a token), never the credential itself.
func WithCaller(ctx context.Context, caller string) context.Context {
	return context.WithValue(ctx, callerKey{}, caller)
}

// Caller returns who the request being served with ctx acts for, or ""
// when it was not authenticated.
func Caller(ctx context.Context) string {
	c, _ := ctx.Value(callerKey{}).(string)
	return c
}

// BodyTooLarge is the error of a request whose body is over limit bytes.
func BodyTooLarge(limit int64) error {
	return kind.Errorf(kind.TooLarge, "request body is larger than %d bytes", limit)
}

// Header values shared by every response that carries them, so that
// setting one allocates nothing. They are never modified.
var (
	jsonType    = []string{"application/json"}
	problemType = []string{"application/problem+json"}
	noStore     = []string{"no-store"}
)
