package httpapi

// The example's redirect cache. Delete this file with the example.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/dozen-go/dozen/internal/links"
	"github.com/dozen-go/dozen/internal/redis"
)

// kvCache is a LinkCache over a KV. A failing KV is a missing cache: the
// redirect reads the database instead, and the client never sees why.
//
// A deleted code is not removed but overwritten with a tombstone for the
// TTL, and entries are only ever added, never overwritten: a redirect that
// read the link from the database just before the delete cannot put it
// back afterwards.
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
	if string(b) == tombstone {
		return links.Link{}, false
	}
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
	if _, err := c.kv.Add(ctx, "link:"+l.Code, b, c.ttl); err != nil {
		c.failed(ctx, err)
	}
}

// tombstone marks a deleted code; it is not JSON, so no link reads as it.
const tombstone = "deleted"

// failed pauses the cache and logs the start of an outage once.
func (c *kvCache) failed(ctx context.Context, err error) {
	if c.brk.trip() {
		c.log.LogAttrs(ctx, slog.LevelWarn, "link cache unavailable; reading the database", slog.String("error", err.Error()))
	}
}

// Delete is tried even while the cache is paused, and its error is
// returned: an entry left behind would redirect a deleted link on every
// replica until its TTL ends, so the caller must not delete the link.
func (c *kvCache) Delete(ctx context.Context, code string) error {
	if err := c.kv.Set(ctx, "link:"+code, []byte(tombstone), c.ttl); err != nil {
		return fmt.Errorf("evict link %q from the cache: %w", code, err)
	}
	return nil
}

// memoryCache is the in-process LinkCache, for a service without Redis:
// links are kept as they are, with no encoding, until their TTL ends.
type memoryCache struct {
	ttl time.Duration
	mu  sync.RWMutex
	m   map[string]memoryEntry
}

// memoryEntry is a cached link, or a tombstone (deleted set) that keeps a
// deleted code out of the cache, as kvCache does.
type memoryEntry struct {
	link    links.Link
	deleted bool
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
	if !ok || e.deleted || time.Now().After(e.expires) {
		return links.Link{}, false
	}
	return e.link, true
}

func (c *memoryCache) Set(_ context.Context, l links.Link) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[l.Code]; ok && time.Now().Before(e.expires) {
		return
	}
	c.put(l.Code, memoryEntry{link: l, expires: time.Now().Add(c.ttl)})
}

func (c *memoryCache) Delete(_ context.Context, code string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.put(code, memoryEntry{deleted: true, expires: time.Now().Add(c.ttl)})
	return nil
}

// put stores e under code; c.mu is held.
func (c *memoryCache) put(code string, e memoryEntry) {
	if len(c.m) >= maxMemoryLinks {
		clear(c.m)
	}
	c.m[code] = e
}
