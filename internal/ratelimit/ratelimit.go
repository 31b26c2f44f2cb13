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
	ctx := context.Background()
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
