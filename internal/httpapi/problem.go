package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/dozen-go/dozen/internal/store"
)

// problem is an RFC 9457 problem details object.
type problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail,omitempty"`
	Instance  string `json:"instance,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

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

// writeProblem writes a problem+json response.
func writeProblem(w http.ResponseWriter, r *http.Request, status int, detail string) {
	p := problem{
		Type:      "about:blank",
		Title:     http.StatusText(status),
		Status:    status,
		Detail:    detail,
		Instance:  r.URL.Path,
		RequestID: RequestID(r.Context()),
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	// The status is already sent; a failed write means the client left.
	_ = json.NewEncoder(w).Encode(p)
}

// problemHandler answers every request with the same problem.
func problemHandler(status int, detail string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, status, detail)
	}
}
