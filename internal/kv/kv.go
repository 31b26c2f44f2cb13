// Package kv is the key-value layer under the service's shared caches and
// counters: KV, the methods of a Redis client (package redis) they use,
// and Breaker, which skips a failing KV for a while so that an outage
// costs one failed call per pause instead of one per request.
package kv

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

// KV is a key-value store shared by the replicas: Redis when REDIS_URL is
// set (package redis). Get reports a key that holds nothing with
// redis.ErrMiss.
type KV interface {
	Get(ctx context.Context, key string) ([]byte, error)
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	Add(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error)
	Incr(ctx context.Context, key string, ttl time.Duration) (int64, error)
}

// Pause is how long a failed KV is left alone before it is tried again.
const Pause = 5 * time.Second

// Breaker records a KV's failures. While it is open, callers skip the KV
// and use their fallback. The zero Breaker is closed.
type Breaker struct {
	until atomic.Int64 // unix nanoseconds before which the KV is skipped
}

// Open reports whether the KV should be skipped now.
func (b *Breaker) Open() bool { return time.Now().UnixNano() < b.until.Load() }

// Trip records a failure, opening the breaker for Pause, and reports
// whether it began an outage: log that once.
func (b *Breaker) Trip() bool {
	began := b.until.Load() == 0
	b.until.Store(time.Now().Add(Pause).UnixNano())
	return began
}

// Reset records a success and reports whether it ended an outage.
func (b *Breaker) Reset() bool { return b.until.Swap(0) != 0 }

// Fail records err as Trip does and, when it began an outage, logs msg
// with err and attrs at warning level: an outage is one line, not one
// per request.
func (b *Breaker) Fail(ctx context.Context, log *slog.Logger, msg string, err error, attrs ...slog.Attr) {
	if b.Trip() {
		log.LogAttrs(ctx, slog.LevelWarn, msg, append(attrs, slog.String("error", err.Error()))...)
	}
}

// Recover records a success as Reset does and, when it ended an outage,
// logs msg with attrs.
func (b *Breaker) Recover(ctx context.Context, log *slog.Logger, msg string, attrs ...slog.Attr) {
	if b.Reset() {
		log.LogAttrs(ctx, slog.LevelInfo, msg, attrs...)
	}
}
