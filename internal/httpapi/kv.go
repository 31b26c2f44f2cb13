package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-chi/httprate"

	"github.com/dozen-go/dozen/internal/links"
	"github.com/dozen-go/dozen/internal/redis"
)

// KV is the key-value store that the link cache and the shared rate-limit
// counter need: Redis when REDIS_URL is set, an in-process stand-in
// otherwise (internal/redis has both).
type KV interface {
	Get(ctx context.Context, key string) ([]byte, error)
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	Incr(ctx context.Context, key string, ttl time.Duration) (int64, error)
	Delete(ctx context.Context, key string) error
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

// kvCache is a LinkCache over a KV. A failing KV is a missing cache: the
// redirect reads the database instead, and the client never sees why.
type kvCache struct {
	kv  KV
	ttl time.Duration
	log *slog.Logger
	brk breaker
}

// NewLinkCache returns a LinkCache that keeps links in kv for ttl.
func NewLinkCache(kv KV, ttl time.Duration, log *slog.Logger) LinkCache {
	return &kvCache{kv: kv, ttl: ttl, log: log}
}

// cachedLink is a link as the cache holds it: with its id, which the
// click counter needs and the API does not show.
type cachedLink struct {
	ID        int64      `json:"id"`
	URL       string     `json:"url"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

func (c *kvCache) Get(ctx context.Context, code string) (links.Link, bool) {
	if c.brk.open() {
		return links.Link{}, false
	}
	b, err := c.kv.Get(ctx, "link:"+code)
	if err != nil {
		if !errors.Is(err, redis.ErrMiss) {
			c.failed(ctx, err)
		}
		return links.Link{}, false
	}
	c.brk.reset()
	var l cachedLink
	if err := json.Unmarshal(b, &l); err != nil {
		return links.Link{}, false
	}
	return links.Link{ID: l.ID, Code: code, URL: l.URL, ExpiresAt: l.ExpiresAt}, true
}

func (c *kvCache) Set(ctx context.Context, l links.Link) {
	if c.brk.open() {
		return
	}
	b, _ := json.Marshal(cachedLink{ID: l.ID, URL: l.URL, ExpiresAt: l.ExpiresAt})
	if err := c.kv.Set(ctx, "link:"+l.Code, b, c.ttl); err != nil {
		c.failed(ctx, err)
	}
}

// failed pauses the cache and logs the start of an outage once.
func (c *kvCache) failed(ctx context.Context, err error) {
	if c.brk.trip() {
		c.log.LogAttrs(ctx, slog.LevelWarn, "link cache unavailable; reading the database", slog.String("error", err.Error()))
	}
}

// Delete is tried even while the cache is paused: a stale entry is worse
// than a slow delete.
func (c *kvCache) Delete(ctx context.Context, code string) {
	if err := c.kv.Delete(ctx, "link:"+code); err != nil {
		// A stale entry would keep redirecting a deleted link until its
		// TTL ends; say so where operators look.
		c.log.LogAttrs(ctx, slog.LevelWarn, "link cache delete; the entry lives until LINK_CACHE_TTL",
			slog.String("code", code), slog.String("error", err.Error()))
	}
}

// memoryCache is the in-process LinkCache, for a service without Redis:
// links are kept as they are, with no encoding, until their TTL ends.
type memoryCache struct {
	ttl time.Duration
	mu  sync.RWMutex
	m   map[string]memoryEntry
}

type memoryEntry struct {
	link    links.Link
	expires time.Time
}

// maxMemoryLinks bounds the in-process cache; when full it is emptied,
// which costs a database read per link and never a leak.
const maxMemoryLinks = 100_000

// NewMemoryLinkCache returns an in-process LinkCache keeping links for ttl.
// Replicas do not share it, so a deleted link may keep redirecting from
// another replica's cache until ttl ends: attach Redis to share one.
func NewMemoryLinkCache(ttl time.Duration) LinkCache {
	return &memoryCache{ttl: ttl, m: map[string]memoryEntry{}}
}

func (c *memoryCache) Get(_ context.Context, code string) (links.Link, bool) {
	c.mu.RLock()
	e, ok := c.m[code]
	c.mu.RUnlock()
	if !ok || time.Now().After(e.expires) {
		return links.Link{}, false
	}
	return e.link, true
}

func (c *memoryCache) Set(_ context.Context, l links.Link) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxMemoryLinks {
		clear(c.m)
	}
	c.m[l.Code] = memoryEntry{link: l, expires: time.Now().Add(c.ttl)}
}

func (c *memoryCache) Delete(_ context.Context, code string) {
	c.mu.Lock()
	delete(c.m, code)
	c.mu.Unlock()
}

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
