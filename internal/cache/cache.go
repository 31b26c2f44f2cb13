// Package cache keeps values for a while to spare a backing service
// reads: Shared, over a KV (Redis) that every replica reads, and Local,
// an in-process LRU for a service without Redis.
//
// Both share one contract. A cache that fails to read or fill is a cache
// that misses, never an error. Set only adds: it leaves a cached value as
// it is. Delete keeps the key out of the cache for the TTL (a tombstone),
// so that a reader that fetched the value just before the delete cannot
// put it back; it is the one call that reports a failure, since a value
// left behind may be served until its TTL ends.
package cache

import (
	"container/list"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/dozen-go/dozen/internal/kv"
	"github.com/dozen-go/dozen/internal/redis"
)

// Shared is a cache of values of type V in a KV, stored as JSON under the
// key prefix: fields that V's JSON encoding leaves out are not cached.
type Shared[V any] struct {
	kv     kv.KV
	prefix string
	ttl    time.Duration
	log    *slog.Logger
	brk    kv.Breaker
}

// NewShared returns a cache in store whose keys start with prefix and
// whose entries live for ttl; log receives the start of an outage.
func NewShared[V any](store kv.KV, prefix string, ttl time.Duration, log *slog.Logger) *Shared[V] {
	return &Shared[V]{kv: store, prefix: prefix, ttl: ttl, log: log}
}

// tombstone marks a deleted key; it is not JSON, so no value reads as it.
const tombstone = "deleted"

// Get returns the value cached under key, if any.
func (c *Shared[V]) Get(ctx context.Context, key string) (V, bool) {
	var v V
	if c.brk.Open() {
		return v, false
	}
	b, err := c.kv.Get(ctx, c.prefix+key)
	if err != nil {
		if !errors.Is(err, redis.ErrMiss) {
			c.brk.Fail(ctx, c.log, "cache unavailable; reading the source", err, slog.String("prefix", c.prefix))
		}
		return v, false
	}
	c.brk.Recover(ctx, c.log, "cache available again", slog.String("prefix", c.prefix))
	if string(b) == tombstone || json.Unmarshal(b, &v) != nil {
		return v, false
	}
	return v, true
}

// Set caches v under key unless the key holds a value or a tombstone.
func (c *Shared[V]) Set(ctx context.Context, key string, v V) {
	if c.brk.Open() {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		return // a value that cannot be cached is read from its source
	}
	if _, err := c.kv.Add(ctx, c.prefix+key, b, c.ttl); err != nil {
		c.brk.Fail(ctx, c.log, "cache unavailable; reading the source", err, slog.String("prefix", c.prefix))
	}
}

// Delete puts a tombstone under key for the TTL. It is tried even while
// the KV is skipped, and its error is returned: the caller must not go on
// as if the value were gone.
func (c *Shared[V]) Delete(ctx context.Context, key string) error {
	if err := c.kv.Set(ctx, c.prefix+key, []byte(tombstone), c.ttl); err != nil {
		return fmt.Errorf("evict %q from the cache: %w", c.prefix+key, err)
	}
	return nil
}

// Local is a cache of values of type V in the process: the size most
// recently used entries, each for the TTL. Replicas do not share it, so a
// value deleted on one may be served by another until its TTL ends.
type Local[V any] struct {
	size int
	ttl  time.Duration

	mu    sync.Mutex
	order list.List // of *localEntry[V], the most recently used in front
	items map[string]*list.Element
}

// localEntry is a cached value, or a tombstone, and when it expires.
type localEntry[V any] struct {
	key     string
	v       V
	deleted bool
	expires time.Time
}

// NewLocal returns an in-process cache of up to size entries (at least
// one), each kept for ttl. When full, it drops the least recently used
// entry. An expired entry goes when it is next read or dropped, with no
// goroutine to sweep it: the cache holds at most size entries, whatever
// the TTL.
func NewLocal[V any](size int, ttl time.Duration) *Local[V] {
	return &Local[V]{size: max(size, 1), ttl: ttl, items: map[string]*list.Element{}}
}

// Get returns the value cached under key, if any.
func (c *Local[V]) Get(_ context.Context, key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el := c.live(key)
	if el == nil {
		var zero V
		return zero, false
	}
	c.order.MoveToFront(el)
	e := el.Value.(*localEntry[V])
	return e.v, !e.deleted
}

// Set caches v under key unless the key holds a value or a tombstone.
func (c *Local[V]) Set(_ context.Context, key string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.live(key) == nil {
		c.add(&localEntry[V]{key: key, v: v, expires: time.Now().Add(c.ttl)})
	}
}

// Delete puts a tombstone under key for the TTL. It never fails.
func (c *Local[V]) Delete(_ context.Context, key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.remove(key)
	c.add(&localEntry[V]{key: key, deleted: true, expires: time.Now().Add(c.ttl)})
	return nil
}

// live returns key's entry, or nil when it has none or it has expired,
// which it then removes. The caller holds mu.
func (c *Local[V]) live(key string) *list.Element {
	el, ok := c.items[key]
	if !ok {
		return nil
	}
	// time.Until reads only the monotonic clock, which expires carries.
	if time.Until(el.Value.(*localEntry[V]).expires) <= 0 {
		c.remove(key)
		return nil
	}
	return el
}

// add puts e in front, dropping the least recently used entry when the
// cache is full. e.key has no entry. The caller holds mu.
func (c *Local[V]) add(e *localEntry[V]) {
	if c.order.Len() >= c.size {
		c.remove(c.order.Back().Value.(*localEntry[V]).key)
	}
	c.items[e.key] = c.order.PushFront(e)
}

// remove drops key's entry, if any. The caller holds mu.
func (c *Local[V]) remove(key string) {
	if el, ok := c.items[key]; ok {
		c.order.Remove(el)
		delete(c.items, key)
	}
}
