package httpapi

import (
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/go-chi/httprate"
)

// NewRateLimit returns middleware that allows limit requests per client
// per window, counted with the sliding-window approximation (the previous
// window's count weighted by how much of it still overlaps, plus the
// current window's). counter holds the counts: a ratelimit.Counter shares
// them between replicas through Redis; nil counts in the process. It must
// not fail: a counter whose backend fails should fall back, not refuse
// requests. A building block: the example limits link creation with it.
//
// The client is the address the client-IP middleware settled on, so the
// limit is only as good as TRUSTED_PROXIES.
//
// name keeps the limit's counts apart from other limits'.
func NewRateLimit(log *slog.Logger, name string, limit int, window time.Duration, counter httprate.LimitCounter) func(http.Handler) http.Handler {
	opts := []httprate.Option{
		httprate.WithKeyFuncs(func(r *http.Request) (string, error) {
			return name + ":" + rateClient(r), nil
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

// rateClient names the client a rate limit counts: its IPv4 address, or
// the /64 of its IPv6 address, since one host (one customer line, one
// cloud instance) is routinely given a whole /64 and could otherwise take
// 2^64 budgets. A peer that is no IP address (a Unix socket) is counted
// by what net/http reports for it.
func rateClient(r *http.Request) string {
	ip, err := netip.ParseAddr(clientIPOf(r.Context()))
	switch {
	case err != nil:
		return "peer " + r.RemoteAddr
	case ip.Is6():
		return netip.PrefixFrom(ip, 64).Masked().String()
	}
	return ip.String()
}
