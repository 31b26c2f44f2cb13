package cache

import (
	"context"
	"crypto/rand"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/dozen-go/dozen/internal/config"
	"github.com/dozen-go/dozen/internal/kv/kvtest"
	"github.com/dozen-go/dozen/internal/redis"
	"github.com/dozen-go/dozen/internal/redis/redistest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var quiet = slog.New(slog.DiscardHandler)

// value stands for what a service caches: a struct with a hidden field.
type value struct {
	ID  int64  `json:"id"`
	URL string `json:"url"`
}

// cache is the contract both caches keep.
type cache interface {
	Get(ctx context.Context, key string) (value, bool)
	Set(ctx context.Context, key string, v value)
	Delete(ctx context.Context, key string) error
}

func TestContract(t *testing.T) {
	caches := map[string]func(t *testing.T) cache{
		"local":  func(*testing.T) cache { return NewLocal[value](100, time.Minute) },
		"shared": func(t *testing.T) cache { return NewShared[value](redistest.New(t), "test:", time.Minute, quiet) },
	}
	for name, open := range caches {
		t.Run(name, func(t *testing.T) {
			c, ctx := open(t), t.Context()
			key := strings.ToLower(rand.Text()[:10])
			if _, ok := c.Get(ctx, key); ok {
				t.Fatal("Get() of an absent key hit")
			}
			c.Set(ctx, key, value{ID: 42, URL: "https://example.com"})
			if got, ok := c.Get(ctx, key); !ok || got != (value{42, "https://example.com"}) {
				t.Errorf("Get() = %+v, %v; want the value set", got, ok)
			}
			c.Set(ctx, key, value{ID: 43})
			if got, _ := c.Get(ctx, key); got.ID != 42 {
				t.Errorf("Get() after a second Set = %+v, want the first value: Set only adds", got)
			}
			if err := c.Delete(ctx, key); err != nil {
				t.Fatalf("Delete() = %v", err)
			}
			if _, ok := c.Get(ctx, key); ok {
				t.Error("Get() after Delete hit")
			}
			// A reader that fetched the value before the delete fills the
			// cache after it: the deleted value must not come back.
			c.Set(ctx, key, value{ID: 42, URL: "https://example.com"})
			if got, ok := c.Get(ctx, key); ok {
				t.Errorf("Get() after Delete and a late Set = %+v, want a miss", got)
			}
		})
	}
}

func TestLocalExpiresAndEvicts(t *testing.T) {
	ctx := t.Context()
	c := NewLocal[value](2, 50*time.Millisecond)
	c.Set(ctx, "a", value{ID: 1})
	c.Set(ctx, "b", value{ID: 2})
	c.Get(ctx, "a") // a is now the most recently used
	c.Set(ctx, "c", value{ID: 3})
	if _, ok := c.Get(ctx, "b"); ok {
		t.Error("Get(b) hit, want it evicted as the least recently used of a full cache")
	}
	if _, ok := c.Get(ctx, "a"); !ok {
		t.Error("Get(a) missed, want the recently used entry kept")
	}
	if err := c.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if _, ok := c.Get(ctx, "c"); ok {
		t.Error("Get(c) hit after its TTL, want a miss")
	}
	// Past the TTL, the tombstone and the value are gone: Set adds again.
	c.Set(ctx, "a", value{ID: 4})
	c.Set(ctx, "c", value{ID: 5})
	if got, ok := c.Get(ctx, "a"); !ok || got.ID != 4 {
		t.Errorf("Get(a) after its tombstone's TTL = %+v, %v; want the value set since", got, ok)
	}
	if got, ok := c.Get(ctx, "c"); !ok || got.ID != 5 {
		t.Errorf("Get(c) after its TTL = %+v, %v; want the value set since", got, ok)
	}
}

// TestSharedDown: a failing KV misses and never errs, except on Delete,
// whose failure the caller must see. A real client of a closed port and
// a fake that fails behave alike.
func TestSharedDown(t *testing.T) {
	t.Parallel() // it waits on timeouts: let the package's other tests run meanwhile
	u, _ := config.ParseURL("redis://127.0.0.1:1/0")
	closed, err := redis.Open(u, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer closed.Close()
	for name, c := range map[string]*Shared[value]{
		"closed port": NewShared[value](closed, "test:", time.Minute, quiet),
		"failing":     NewShared[value](kvtest.Down{}, "test:", time.Minute, quiet),
	} {
		t.Run(name, func(t *testing.T) {
			c.Set(t.Context(), "k", value{ID: 1})
			if _, ok := c.Get(t.Context(), "k"); ok {
				t.Error("Get() with the KV down hit")
			}
			if err := c.Delete(t.Context(), "k"); err == nil {
				t.Error("Delete() with the KV down = nil, want the failure")
			}
		})
	}
}
