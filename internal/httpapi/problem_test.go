package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dozen-go/dozen/internal/kind"
	"github.com/dozen-go/dozen/internal/store"
)

func TestRespondErrorStatus(t *testing.T) {
	const internal = "dial tcp 10.0.0.5:5432: connection refused"
	tests := []struct {
		name       string
		err        error
		wantStatus int
	}{
		{"client error", kind.Errorf(kind.Invalid, "bad field"), http.StatusBadRequest},
		{"database unavailable", fmt.Errorf("get link: %w: %w", store.ErrUnavailable, errors.New(internal)), http.StatusServiceUnavailable},
		{"timed out", fmt.Errorf("get link: %w", context.DeadlineExceeded), http.StatusServiceUnavailable},
		{"internal, with a detail never shown", kind.Wrap(kind.Internal, "10.0.0.5 said no", errors.New(internal)), http.StatusInternalServerError},
		{"anything else", errors.New(internal), http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodGet, "/v1/x", nil)
			respondError(w, r, quietLog, tt.err)
			if w.Code != tt.wantStatus {
				t.Errorf("respondError(%v) status = %d, want %d", tt.err, w.Code, tt.wantStatus)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("respondError(%v) Content-Type = %q, want application/problem+json", tt.err, ct)
			}
			if strings.Contains(w.Body.String(), "10.0.0.5") {
				t.Errorf("respondError(%v) body = %s, shows internal error text", tt.err, w.Body)
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
	respondError(w, r, slog.New(slog.DiscardHandler), fmt.Errorf("list links: %w", errors.New("driver: bad connection")))
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Errorf("respondError(cancelled request) = %d, Retry-After %q; want 503 with Retry-After", w.Code, w.Header().Get("Retry-After"))
	}
}
