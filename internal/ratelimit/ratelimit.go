// Package ratelimit holds the counts of a rate limit where every replica
// sees them: a counter for github.com/go-chi/httprate over a KV (Redis),
// which counts in-process while the KV is down. The middleware that uses
// it is httpapi.NewRateLimit.
package ratelimit

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
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
}

// NewCounter returns a counter over store; log receives the start and end
// of an outage.
func NewCounter(store kv.KV, log *slog.Logger) *Counter {
	return &Counter{kv: store, fallback: httprate.NewLocalLimitCounter(time.Minute), log: log}
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

// Get implements httprate.LimitCounter.
func (c *Counter) Get(key string, current, previous time.Time) (int, int, error) {
	if c.brk.Open() {
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

func (c *Counter) read(ctx context.Context, key string) (int, error) {
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
func (c *Counter) fail(err error) {
	if c.brk.Trip() {
		c.log.Warn("rate-limit counter unavailable; counting in-process", "error", err.Error())
	}
}

func (c *Counter) recover() {
	if c.brk.Reset() {
		c.log.Info("rate-limit counter available again")
	}
}
