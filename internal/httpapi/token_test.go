package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/dozen-go/dozen/internal/secret"
	"github.com/dozen-go/dozen/internal/web"
)

// TestRequireToken admits the listed bearer tokens, whatever the case of
// the scheme, records the token's hash as the caller, and refuses a
// missing, malformed, repeated or unknown one with the challenge RFC 6750
// asks for.
func TestRequireToken(t *testing.T) {
	const good, other = "good-token-0123456789", "other-token-0123456789"
	var caller string
	h := RequireToken(quietLog, "notes", []secret.String{other, good})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		caller = web.Caller(r.Context())
	}))
	sum := sha256.Sum256([]byte(good))
	for _, tt := range []struct {
		name      string
		headers   []string // Authorization values
		status    int
		challenge string
	}{
		{"good", []string{"Bearer " + good}, 200, ""},
		{"scheme in any case", []string{"bEaReR " + good}, 200, ""},
		{"none", nil, 401, `Bearer realm="notes"`},
		{"basic", []string{"Basic " + good}, 401, `Bearer realm="notes"`},
		{"empty token", []string{"Bearer "}, 401, `Bearer realm="notes"`},
		{"two headers", []string{"Bearer " + good, "Bearer " + good}, 400, `Bearer realm="notes"`},
		{"unknown", []string{"Bearer not-" + good}, 401, `Bearer realm="notes", error="invalid_token"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			caller = ""
			r := httptest.NewRequest("POST", "/", nil)
			for _, v := range tt.headers {
				r.Header.Add("Authorization", v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != tt.status || rec.Header().Get("WWW-Authenticate") != tt.challenge {
				t.Errorf("status %d, challenge %q; want %d, %q", rec.Code, rec.Header().Get("WWW-Authenticate"), tt.status, tt.challenge)
			}
			if want := "token:" + hex.EncodeToString(sum[:8]); tt.status == 200 && caller != want {
				t.Errorf("caller = %q, want %q", caller, want)
			}
		})
	}
}
