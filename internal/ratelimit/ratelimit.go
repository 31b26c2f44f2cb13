// Package ratelimit holds the counts of a rate limit where every replica
// sees them: a counter for github.com/go-chi/httprate over a KV (Redis),
// which counts in-process while the KV is down. The middleware that uses
// it is httpapi.NewRateLimit.
package ratelimit

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/go-chi/httprate"

	"github.com/dozen-go/dozen/internal/kv"
	"github.com/dozen-go/dozen/internal/redis"
)

// Counter is an httprate.LimitCounter over a KV, so that every replica
// counts against one limit. When the KV fails it counts in-process
// instead: during an outage each replica enforces the limit alone, which
// lets through at most the limit times the number of replicas.
type Counter struct {
	kv       kv.KV
	fallback httprate.LimitCounter
	window   time.Duration
	log      *slog.Logger
	brk      kv.Breaker

	// mu is held by Handler around each check, which sets ctx to the
	// request's context for the calls the check makes.
	mu  sync.Mutex
	ctx context.Context
}

// NewCounter returns a counter over store; log receives the start and end
// of an outage.
func NewCounter(store kv.KV, log *slog.Logger) *Counter {
	return &Counter{kv: store, fallback: httprate.NewLocalLimitCounter(time.Minute), log: log}
}

// Handler returns rl's middleware, as rl.Handler does, with the calls
// this counter makes for a request in the request's context: the KV's
// calls are part of the request's trace, not traces of their own. The
// request's cancellation is left out, so that a client that goes away
// does not count as an outage of the KV. rl must count with c, and key
// is rl's key function.
//
// The counter's lock is held around each check, as rl holds its own
// around the count's read and increment: one check at a time.
func (c *Counter) Handler(rl *httprate.RateLimiter, key func(*http.Request) string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !c.check(rl, w, r, key(r)) {
				next.ServeHTTP(w, r)
			}
		})
	}
}

// check runs rl's check of r with r's context set; it reports whether rl
// answered the request (limited, or failed).
func (c *Counter) check(rl *httprate.RateLimiter, w http.ResponseWriter, r *http.Request, key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ctx = context.WithoutCancel(r.Context())
	defer func() { c.ctx = nil }()
	return rl.RespondOnLimit(w, r, key)
}

// context returns the context of the request being checked, or the
// background context outside Handler.
func (c *Counter) context() context.Context {
	if c.ctx != nil {
		return c.ctx
	}
	return context.Background()
}

// Config implements httprate.LimitCounter.
func (c *Counter) Config(limit int, window time.Duration) {
	c.window = window
	c.fallback.Config(limit, window)
}

// Increment implements httprate.LimitCounter.
func (c *Counter) Increment(key string, window time.Time) error {
	return c.IncrementBy(key, window, 1)
}

// IncrementBy implements httprate.LimitCounter.
func (c *Counter) IncrementBy(key string, window time.Time, amount int) error {
	if c.brk.Open() {
		return c.fallback.IncrementBy(key, window, amount)
	}
	ctx := c.context()
	for range amount {
		// Two windows' worth of TTL: the sliding window reads the previous
		// window's count until the current one ends.
		if _, err := c.kv.Incr(ctx, keyPrefix+key+":"+strconv.FormatInt(window.Unix(), 10), 2*c.window); err != nil {
			c.brk.Fail(ctx, c.log, unavailable, err)
			return c.fallback.IncrementBy(key, window, amount)
		}
	}
	c.brk.Recover(ctx, c.log, available)
	return nil
}

// Get implements httprate.LimitCounter.
func (c *Counter) Get(key string, current, previous time.Time) (int, int, error) {
	if c.brk.Open() {
		return c.fallback.Get(key, current, previous)
	}
	ctx := c.context()
	var counts [2]int
	for i, window := range [2]time.Time{current, previous} {
		b, err := c.kv.Get(ctx, keyPrefix+key+":"+strconv.FormatInt(window.Unix(), 10))
		if errors.Is(err, redis.ErrMiss) {
			continue // nothing counted in that window
		}
		if err == nil {
			counts[i], err = strconv.Atoi(string(b))
		}
		if err != nil {
			c.brk.Fail(ctx, c.log, unavailable, err)
			return c.fallback.Get(key, current, previous)
		}
	}
	c.brk.Recover(ctx, c.log, available)
	return counts[0], counts[1], nil
}

// keyPrefix starts the KV key of each count; the limit's key and the
// window's start follow it.
const keyPrefix = "rate:"

// The log lines of an outage of the shared counts, and of its end.
const (
	unavailable = "rate-limit counter unavailable; counting in-process"
	available   = "rate-limit counter available again"
)
