package httpapi

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5/middleware"
	"github.com/go-chi/httprate"
)

// NewRateLimit returns middleware that allows limit requests per client
// per window, counted with the sliding-window approximation (the previous
// window's count weighted by how much of it still overlaps, plus the
// current window's). counter holds the counts: shared by every replica
// when it is Redis-backed, per process otherwise. It must not fail: a
// counter whose backend fails should fall back, not refuse requests.
//
// The client is the address the client-IP middleware settled on, so the
// limit is only as good as TRUSTED_PROXIES.
func NewRateLimit(log *slog.Logger, limit int, window time.Duration, counter httprate.LimitCounter) func(http.Handler) http.Handler {
	opts := []httprate.Option{
		httprate.WithKeyFuncs(func(r *http.Request) (string, error) {
			ip := middleware.GetClientIP(r.Context())
			if ip == "" {
				ip = "unknown"
			}
			return "create:" + ip, nil
		}),
		httprate.WithLimitHandler(func(w http.ResponseWriter, r *http.Request) {
			writeProblem(w, r, http.StatusTooManyRequests, "rate limit reached; retry after the Retry-After header's seconds")
		}),
		httprate.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) {
			log.LogAttrs(r.Context(), slog.LevelError, "rate limit counter", slog.String("error", err.Error()))
			writeProblem(w, r, http.StatusServiceUnavailable, "temporarily unavailable; retry shortly")
		}),
	}
	if counter != nil {
		opts = append(opts, httprate.WithLimitCounter(counter))
	}
	return httprate.NewRateLimiter(limit, window, opts...).Handler
}
