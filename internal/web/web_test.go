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
	"github.com/dozen-go/dozen/internal/logging"
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

// Problem renders by hand; what it writes must be what
// encoding/json writes for the same problem, escapes included.
func TestProblemRendering(t *testing.T) {
	for _, tt := range []struct {
		status       int
		detail, path string
		id           string
	}{
		{404, "no such resource", "/x", "ID1"},
		{400, `field "url": <must> & be "quoted" \ ok`, "/v1/links", ""},
		{503, "", "/", "abc"},
		{418, "controls \x00\x01\b\f\n\r\t\x1f\x7f end", "/caf\u00e9/\u2028/\u2029/\U0001F600", "a"},
		{413, "invalid \xff\xfe utf-8 \xe2\x82", "/%ZZ", ""},
	} {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/", nil)
		r.URL.Path = tt.path
		if tt.id != "" {
			r = r.WithContext(logging.WithAttrs(r.Context(), slog.String(RequestIDKey, tt.id)))
		}
		Problem(w, r, tt.status, tt.detail)
		// The members in RFC 9457's order, each value as encoding/json
		// writes it; the last three only when not empty.
		want := []byte(`{"type":"about:blank"`)
		for _, m := range []struct {
			name  string
			value any
		}{{"title", http.StatusText(tt.status)}, {"status", tt.status}, {"detail", tt.detail}, {"instance", tt.path}, {"request_id", tt.id}} {
			if m.value == "" {
				continue
			}
			v, err := json.Marshal(m.value)
			if err != nil {
				t.Fatal(err)
			}
			want = append(append(want, `,"`+m.name+`":`...), v...)
		}
		want = append(want, '}')
		if got := w.Body.String(); got != string(want)+"\n" {
			t.Errorf("Problem(%d, %q, path %q) =\n%s\nwant (encoding/json)\n%s", tt.status, tt.detail, tt.path, got, want)
		}
		if w.Code != tt.status || w.Header().Get("Content-Type") != "application/problem+json" || w.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("Problem(%d): status %d, headers %v", tt.status, w.Code, w.Header())
		}
	}
}

func FuzzProblemString(f *testing.F) {
	for _, s := range []string{"", "plain", `"\<>&`, "\x00\u2028\xff", "\U0001F600"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONString(nil, s); string(got) != string(want) {
			t.Errorf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	})
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
