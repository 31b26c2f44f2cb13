package httpapi

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/go-chi/httprate"

	"github.com/dozen-go/dozen/internal/kind"
	"github.com/dozen-go/dozen/internal/web"
)

// errRateLimited answers a request over its client's budget.
var errRateLimited = kind.New(kind.RateLimited, "")

// NewRateLimit returns middleware that allows limit requests per client
// per window, counted with the sliding-window approximation (the previous
// window's count weighted by how much of it still overlaps, plus the
// current window's). counter holds the counts: a ratelimit.Counter shares
// them between replicas through Redis; nil counts in the process. It must
// not fail: a counter whose backend fails should fall back, not refuse
// requests. A building block: the example limits link creation with it.
//
// The client is the address requestValues settled on (clientAddress), so the
// limit is only as good as TRUSTED_PROXIES.
//
// name keeps the limit's counts apart from other limits'.
func NewRateLimit(log *slog.Logger, name string, limit int, window time.Duration, counter httprate.LimitCounter) func(http.Handler) http.Handler {
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
	opts := []httprate.Option{
		httprate.WithKeyFuncs(func(r *http.Request) (string, error) { return key(r), nil }),
		httprate.WithLimitHandler(func(w http.ResponseWriter, r *http.Request) {
			web.Problem(w, r, errRateLimited) // httprate has set Retry-After
		}),
		httprate.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) {
			web.Error(w, r, log, kind.Wrap(kind.Unavailable, "", fmt.Errorf("rate limit counter: %w", err)))
		}),
	}
	if counter != nil {
		opts = append(opts, httprate.WithLimitCounter(counter))
	}
	rl := httprate.NewRateLimiter(limit, window, opts...)
	// A counter that can make its calls in the request's context (see
	// ratelimit.Counter) keeps them in the request's trace.
	if c, ok := counter.(interface {
		Handler(*httprate.RateLimiter, func(*http.Request) string) func(http.Handler) http.Handler
	}); ok {
		return c.Handler(rl, key)
	}
	return rl.Handler
}
