package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/go-chi/httprate"

	"github.com/dozen-go/dozen/internal/redis"
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
			return "create:" + rateClient(r), nil
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

// KV is the key-value store that the shared rate-limit counter (and the
// example's link cache) need: Redis when REDIS_URL is set (internal/redis).
type KV interface {
	Get(ctx context.Context, key string) ([]byte, error)
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	Add(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error)
	Incr(ctx context.Context, key string, ttl time.Duration) (int64, error)
}

// breaker skips a failing KV for a while, so that an outage costs one
// failed call per pause instead of one per request.
type breaker struct {
	until atomic.Int64 // unix nanoseconds before which the KV is skipped
}

// pause is how long a failed KV is left alone before it is tried again.
const pause = 5 * time.Second

func (b *breaker) open() bool { return time.Now().UnixNano() < b.until.Load() }

// trip records a failure and reports whether it began an outage.
func (b *breaker) trip() bool {
	began := b.until.Load() == 0
	b.until.Store(time.Now().Add(pause).UnixNano())
	return began
}

// reset records a success and reports whether it ended an outage.
func (b *breaker) reset() bool { return b.until.Swap(0) != 0 }

// kvCounter is an httprate.LimitCounter over a KV, so that every replica
// counts against one limit. When the KV fails it counts in-process
// instead: during an outage each replica enforces the limit alone, which
// lets through at most the limit times the number of replicas.
type kvCounter struct {
	kv       KV
	fallback httprate.LimitCounter
	window   time.Duration
	log      *slog.Logger
	brk      breaker
}

// NewLimitCounter returns a rate-limit counter over kv.
func NewLimitCounter(kv KV, log *slog.Logger) httprate.LimitCounter {
	return &kvCounter{kv: kv, fallback: httprate.NewLocalLimitCounter(time.Minute), log: log}
}

func (c *kvCounter) Config(limit int, window time.Duration) {
	c.window = window
	c.fallback.Config(limit, window)
}

func (c *kvCounter) Increment(key string, window time.Time) error {
	return c.IncrementBy(key, window, 1)
}

func (c *kvCounter) IncrementBy(key string, window time.Time, amount int) error {
	if c.brk.open() {
		return c.fallback.IncrementBy(key, window, amount)
	}
	ctx := context.Background()
	for range amount {
		// Two windows' worth of TTL: the sliding window reads the previous
		// window's count until the current one ends.
		if _, err := c.kv.Incr(ctx, counterKey(key, window), 2*c.window); err != nil {
			c.fail(err)
			return c.fallback.IncrementBy(key, window, amount)
		}
	}
	c.recover()
	return nil
}

func (c *kvCounter) Get(key string, current, previous time.Time) (int, int, error) {
	if c.brk.open() {
		return c.fallback.Get(key, current, previous)
	}
	ctx := context.Background()
	cur, err1 := c.read(ctx, counterKey(key, current))
	prev, err2 := c.read(ctx, counterKey(key, previous))
	if err := errors.Join(err1, err2); err != nil {
		c.fail(err)
		return c.fallback.Get(key, current, previous)
	}
	c.recover()
	return cur, prev, nil
}

func (c *kvCounter) read(ctx context.Context, key string) (int, error) {
	b, err := c.kv.Get(ctx, key)
	if errors.Is(err, redis.ErrMiss) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(string(b))
}

func counterKey(key string, window time.Time) string {
	return "rate:" + key + ":" + strconv.FormatInt(window.Unix(), 10)
}

// fail pauses the shared counter and logs the start of an outage once.
func (c *kvCounter) fail(err error) {
	if c.brk.trip() {
		c.log.Warn("rate-limit counter unavailable; counting in-process", "error", err.Error())
	}
}

func (c *kvCounter) recover() {
	if c.brk.reset() {
		c.log.Info("rate-limit counter available again")
	}
}
