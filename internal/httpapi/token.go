package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strings"

	"github.com/dozen-go/dozen/internal/kind"
	"github.com/dozen-go/dozen/internal/secret"
	"github.com/dozen-go/dozen/internal/web"
)

// RequireToken returns middleware that admits requests with a bearer
// token from tokens, compared in constant time, and records which token
// it was, by a hash, as the request's caller (web.WithCaller): idempotency
// keys are scoped by it, and every line logged for the request names it.
// A request without one gets 401 with a WWW-Authenticate challenge naming
// realm. A building block: mount it on the routes only some clients may
// call. With no tokens, every request is refused.
func RequireToken(log *slog.Logger, realm string, tokens []secret.String) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got, err := bearerToken(r.Header)
			if err != nil {
				w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm+`"`)
				web.Error(w, r, log, err)
				return
			}
			match := -1
			for i, t := range tokens {
				// Every token is compared, so timing says nothing about
				// which one matched or how much of it.
				if subtle.ConstantTimeCompare([]byte(got), []byte(t.Reveal())) == 1 {
					match = i
				}
			}
			if match < 0 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm+`", error="invalid_token"`)
				web.Error(w, r, log, errInvalidToken)
				return
			}
			sum := sha256.Sum256([]byte(tokens[match].Reveal()))
			ctx := web.WithCaller(r.Context(), "token:"+hex.EncodeToString(sum[:8]))
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

var errInvalidToken = kind.New(kind.Unauthenticated, "the bearer token is not valid")

// bearerToken returns the token of the request's one Authorization header
// with the Bearer scheme, which RFC 9110 §11.1 makes case-insensitive, or
// an error: two headers are ambiguous (a proxy and a client may
// disagree on which one counts), so they are refused.
func bearerToken(h http.Header) (string, error) {
	values := h.Values("Authorization")
	if len(values) > 1 {
		return "", kind.Errorf(kind.Invalid, "send one Authorization header, not several")
	}
	scheme, token, _ := strings.Cut(strings.Join(values, ""), " ")
	token = strings.TrimLeft(token, " ")
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", kind.Errorf(kind.Unauthenticated, "Authorization header must carry a bearer token")
	}
	return token, nil
}
