// Package ratelimit decides whether a client is within its rate limit,
// with counts every replica sees: a sliding-window counter in a Store
// (Redis), decided and counted atomically there, which counts in-process
// while the store is down. The middleware that uses it is
// httpapi.NewRateLimit.
//
// The estimate is a sliding-window counter's: the previous fixed
// window's count, weighted by how much of it the sliding window still
// covers, plus the current window's count. An event is allowed, and
// counted, while the estimate is under the limit.
package ratelimit

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/dozen-go/dozen/internal/kv"
)

// Store decides one event against a sliding-window limit and counts it
// when allowed, in one atomic step shared by every replica
// (redis.Client.SlidingWindow). retryAfter is how long a refused client
// should wait.
type Store interface {
	SlidingWindow(ctx context.Context, key string, limit int, window time.Duration) (allowed bool, retryAfter time.Duration, err error)
}

// Limiter allows limit events per key per window. With a Store every
// replica counts against one limit; when the store fails, or without one,
// it counts in-process instead: during an outage each replica enforces
// the limit alone, which lets through at most the limit times the number
// of replicas.
type Limiter struct {
	store  Store
	limit  int
	window time.Duration
	log    *slog.Logger
	brk    kv.Breaker
	local  local
}

// New returns a limiter of limit events per window over store, or
// in-process if store is nil; log receives the start and end of an
// outage of the store. A window under a millisecond counts as one.
func New(store Store, limit int, window time.Duration, log *slog.Logger) *Limiter {
	return &Limiter{store: store, limit: limit, window: max(window, time.Millisecond), log: log}
}

// Allow counts one event for key if it is within the limit, and reports
// whether it did; if not, retryAfter is how long until the current
// window ends. It does not fail: a failing store is replaced by the
// in-process count until it answers again. The store's calls are made in
// ctx, which should carry the request's span and no cancellation (see
// context.WithoutCancel): a client that goes away is no outage.
func (l *Limiter) Allow(ctx context.Context, key string) (allowed bool, retryAfter time.Duration) {
	if l.store != nil && !l.brk.Open() {
		ok, after, err := l.store.SlidingWindow(ctx, keyPrefix+key, l.limit, l.window)
		if err == nil {
			l.brk.Recover(ctx, l.log, available)
			return ok, after
		}
		l.brk.Fail(ctx, l.log, unavailable, err)
	}
	return l.local.allow(key, l.limit, l.window, time.Now())
}

// local is the in-process count: the same algorithm as the store's, under
// a lock. It keeps the counts of two windows only, the current and the
// previous.
type local struct {
	mu        sync.Mutex
	idx       int64 // the current window's number since the Unix epoch
	cur, prev map[string]int
}

func (l *local) allow(key string, limit int, window time.Duration, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := window.Milliseconds()
	ms := now.UnixMilli()
	idx := ms / w
	switch {
	case l.cur == nil || idx > l.idx+1:
		l.cur, l.prev = map[string]int{}, map[string]int{}
	case idx == l.idx+1:
		l.cur, l.prev = map[string]int{}, l.cur
	}
	l.idx = idx
	elapsed := ms - idx*w
	if float64(l.prev[key])*float64(w-elapsed)/float64(w)+float64(l.cur[key]) >= float64(limit) {
		return false, time.Duration(w-elapsed) * time.Millisecond
	}
	l.cur[key]++
	return true, 0
}

// keyPrefix starts the store's key of each limit; the limit's key follows.
const keyPrefix = "rate:"

// The log lines of an outage of the shared counts, and of its end.
const (
	unavailable = "rate-limit counter unavailable; counting in-process"
	available   = "rate-limit counter available again"
)
