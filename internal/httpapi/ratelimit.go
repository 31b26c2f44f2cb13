package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/dozen-go/dozen/internal/kind"
	"github.com/dozen-go/dozen/internal/ratelimit"
	"github.com/dozen-go/dozen/internal/web"
)

// errRateLimited answers a request over its client's budget.
var errRateLimited = kind.New(kind.RateLimited, "")

// NewRateLimit returns middleware that allows limit requests per client
// per window, counted with the sliding-window approximation (the previous
// window's count weighted by how much of it still overlaps, plus the
// current window's); see package ratelimit. store holds the counts: Redis
// shares them between replicas, deciding and counting each request in one
// atomic step; nil counts in the process. A failing store is replaced by
// the in-process count, not a refusal. A building block: the example
// limits link creation with it.
//
// The client is the address requestValues settled on (clientAddress), so the
// limit is only as good as TRUSTED_PROXIES.
//
// name keeps the limit's counts apart from other limits'.
func NewRateLimit(log *slog.Logger, name string, limit int, window time.Duration, store ratelimit.Store) func(http.Handler) http.Handler {
	lim := ratelimit.New(store, limit, window, log)
	// The client's IPv4 address, or the /64 of its IPv6 address, since
	// one host (one customer line, one cloud instance) is routinely given
	// a whole /64 and could otherwise take 2^64 budgets. A peer that is
	// no IP address (a Unix socket) is counted by what net/http reports
	// for it.
	key := func(r *http.Request) string {
		ip := clientAddr(r.Context())
		switch {
		case !ip.IsValid():
			return name + ":peer " + r.RemoteAddr
		case ip.Is6():
			return name + ":" + netip.PrefixFrom(ip, 64).Masked().String()
		}
		return name + ":" + ip.String()
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// The store's calls join the request's trace; the request's
			// cancellation is left out, so that a client that goes away
			// does not count as an outage of the store.
			ok, after := lim.Allow(context.WithoutCancel(r.Context()), key(r))
			if !ok {
				// Whole seconds, rounded up (RFC 9110 delay-seconds).
				w.Header().Set("Retry-After", strconv.FormatInt(int64(max(time.Second, after+time.Second-1)/time.Second), 10))
				web.Problem(w, r, errRateLimited)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
