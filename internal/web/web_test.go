package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dozen-go/dozen/internal/kind"
)

func TestErrorStatus(t *testing.T) {
	const internal = "dial tcp 10.0.0.5:5432: connection refused"
	tests := []struct {
		name       string
		err        error
		wantStatus int
	}{
		{"client error", kind.Errorf(kind.Invalid, "bad field"), http.StatusBadRequest},
		{"database unavailable", fmt.Errorf("get note: %w", kind.Wrap(kind.Unavailable, "", errors.New(internal))), http.StatusServiceUnavailable},
		{"timed out", fmt.Errorf("get note: %w", context.DeadlineExceeded), http.StatusServiceUnavailable},
		{"internal, with a detail never shown", kind.Wrap(kind.Internal, "10.0.0.5 said no", errors.New(internal)), http.StatusInternalServerError},
		{"anything else", errors.New(internal), http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodGet, "/v1/x", nil)
			Error(w, r, quietLog, tt.err)
			if w.Code != tt.wantStatus {
				t.Errorf("Error(%v) status = %d, want %d", tt.err, w.Code, tt.wantStatus)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Error(%v) Content-Type = %q, want application/problem+json", tt.err, ct)
			}
			if strings.Contains(w.Body.String(), "10.0.0.5") {
				t.Errorf("Error(%v) body = %s, shows internal error text", tt.err, w.Body)
			}
		})
	}
}

// TestCancelledRequestIsNoServerError: a request given up on (the client
// left, or shutdown cut it off) fails with whatever error its context
// caused; that is not a fault of the service, so not a 500.
func TestCancelledRequestIsNoServerError(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := httptest.NewRequest(http.MethodGet, "/v1/x", nil).WithContext(ctx)
	w := httptest.NewRecorder()
	Error(w, r, slog.New(slog.DiscardHandler), fmt.Errorf("list notes: %w", errors.New("driver: bad connection")))
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Errorf("Error(cancelled request) = %d, Retry-After %q; want 503 with Retry-After", w.Code, w.Header().Get("Retry-After"))
	}
}

var quietLog = slog.New(slog.DiscardHandler)

// Every kind is answered with the status and title of the table, the
// detail the table allows and the request id from the context.
func TestProblem(t *testing.T) {
	for _, tt := range []struct {
		err        error
		status     int
		detail     string
		retryAfter bool
	}{
		{kind.New(kind.NotFound, ""), 404, "no such resource", false},
		{kind.New(kind.NotAllowed, ""), 405, "method not allowed on this resource", false},
		{BodyTooLarge(10), 413, "request body is larger than 10 bytes", false},
		{kind.New(kind.RateLimited, ""), 429, "rate limit reached; retry after the Retry-After header's seconds", true},
		{kind.New(kind.Internal, "10.0.0.5 said no"), 500, "internal error; quote the request id when reporting it", false},
		{kind.New(kind.Unavailable, "the server is at capacity"), 503, "the server is at capacity", true},
		{kind.New(kind.Invalid, `field "url": <must> & be "quoted"`), 400, `field "url": <must> & be "quoted"`, false},
	} {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/v1/x", nil)
		r = r.WithContext(WithRequestID(r.Context(), "ID1"))
		Problem(w, r, tt.err)
		var got map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
			t.Fatalf("Problem(%v) body %q: %v", tt.err, w.Body, err)
		}
		want := map[string]any{"type": "about:blank", "title": Title(kind.Of(tt.err)), "status": float64(tt.status),
			"detail": tt.detail, "instance": "/v1/x", "request_id": "ID1"}
		if fmt.Sprint(got) != fmt.Sprint(want) || w.Code != tt.status {
			t.Errorf("Problem(%v) = %d %v, want %d %v", tt.err, w.Code, got, tt.status, want)
		}
		if w.Header().Get("Content-Type") != "application/problem+json" || w.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("Problem(%v): headers %v", tt.err, w.Header())
		}
		if got := w.Header().Get("Retry-After") != ""; got != tt.retryAfter {
			t.Errorf("Problem(%v): Retry-After set %v, want %v", tt.err, got, tt.retryAfter)
		}
	}
}

// Every kind has an entry of its own in the table: a kind added without
// one would be answered as an internal error.
func TestEveryKindInTable(t *testing.T) {
	for k := kind.Internal; k <= kind.RateLimited; k++ {
		if sent, _ := Status(k); sent == 0 || (k != kind.Internal && sent == 500) || Title(k) == "" {
			t.Errorf("kind %v: status %d, title %q", k, sent, Title(k))
		}
	}
	if _, logged := Status(kind.Canceled); logged != 499 {
		t.Errorf("Status(Canceled) logged = %d, want 499", logged)
	}
}

func TestStaticJSON(t *testing.T) {
	h := StaticJSON([]byte("{}\n"))
	for range 2 { // the shared header value survives a response
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
		if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/json" || w.Body.String() != "{}\n" {
			t.Errorf("StaticJSON = %d %q %q, want 200 application/json {}", w.Code, w.Header().Get("Content-Type"), w.Body.String())
		}
	}
}

func TestJSON(t *testing.T) {
	tests := []struct {
		name       string
		v          any
		wantStatus int
		wantType   string
		wantBody   string
	}{
		{"value", map[string]int{"n": 1}, http.StatusCreated, "application/json", "{\"n\":1}\n"},
		{"unencodable", map[string]any{"f": func() {}}, http.StatusInternalServerError, "application/problem+json", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			Handle(quietLog, func(w http.ResponseWriter, r *http.Request) error {
				return JSON(w, http.StatusCreated, tt.v)
			}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
			if rec.Code != tt.wantStatus {
				t.Errorf("JSON(%s) status = %d, want %d", tt.name, rec.Code, tt.wantStatus)
			}
			if got := rec.Header().Get("Content-Type"); got != tt.wantType {
				t.Errorf("JSON(%s) Content-Type = %q, want %q", tt.name, got, tt.wantType)
			}
			if tt.wantBody != "" && rec.Body.String() != tt.wantBody {
				t.Errorf("JSON(%s) body = %q, want %q", tt.name, rec.Body.String(), tt.wantBody)
			}
		})
	}
}
