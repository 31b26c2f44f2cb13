package httpapi

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestRateLimitPerClient spends one client's budget and checks who else
// it stops: an IPv4 client alone, an IPv6 client's whole /64.
func TestRateLimitPerClient(t *testing.T) {
	tests := []struct {
		name        string
		first, then string // peers: the one that spends the budget, the next
		want        int
	}{
		{"same IPv4 client", "192.0.2.1:1000", "192.0.2.1:2000", http.StatusTooManyRequests},
		{"other IPv4 client", "192.0.2.1:1000", "192.0.2.2:1000", http.StatusOK},
		{"same IPv6 /64", "[2001:db8:0:1::1]:1000", "[2001:db8:0:1::2]:1000", http.StatusTooManyRequests},
		{"other IPv6 /64", "[2001:db8:0:1::1]:1000", "[2001:db8:0:2::1]:1000", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
			h := requestValues(0)(NewRateLimit(quietLog, "test", 2, time.Minute, nil)(ok))
			send := func(peer string) *httptest.ResponseRecorder {
				r := httptest.NewRequest(http.MethodPost, "/", nil)
				r.RemoteAddr = peer
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, r)
				return rec
			}
			for i := range 2 {
				if got := send(tt.first).Code; got != http.StatusOK {
					t.Fatalf("request %d within the limit = %d", i, got)
				}
			}
			rec := send(tt.then)
			if rec.Code != tt.want {
				t.Fatalf("next request from %s = %d, want %d", tt.then, rec.Code, tt.want)
			}
			if tt.want == http.StatusTooManyRequests {
				if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
					t.Errorf("Content-Type = %q, want application/problem+json", ct)
				}
				if rec.Header().Get("Retry-After") == "" {
					t.Error("a 429 without Retry-After")
				}
			}
		})
	}
}
