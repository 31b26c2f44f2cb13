// Package redistest gives each integration test a key space of its own on
// the Redis server named by TEST_REDIS_URL, and deletes the keys in it
// when the test ends, so tests sharing the server neither collide nor
// leave keys behind.
package redistest

import (
	"context"
	"crypto/rand"
	"os"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/dozen-go/dozen/internal/config"
	"github.com/dozen-go/dozen/internal/integration"
	"github.com/dozen-go/dozen/internal/redis"
)

// Variable names the server to test against, e.g. redis://127.0.0.1:6379/15.
const Variable = "TEST_REDIS_URL"

// URL returns the server's URL, or skips the test (fails it under
// REQUIRE_INTEGRATION_TESTS) when Variable is unset.
func URL(t testing.TB) config.URL {
	t.Helper()
	raw := os.Getenv(Variable)
	if raw == "" {
		integration.Skip(t, Variable, "redis://127.0.0.1:6379/15")
	}
	u, err := config.ParseURL(raw)
	if err != nil {
		t.Fatalf("redistest: %s is not a URL", Variable)
	}
	return u
}

// NewPrefix returns a key prefix no other test uses, for REDIS_KEY_PREFIX,
// and deletes every key under it when the test ends.
func NewPrefix(t testing.TB) string {
	t.Helper()
	u := URL(t)
	prefix := "test_" + strings.ToLower(rand.Text()[:10]) + ":"
	t.Cleanup(func() {
		n := 0
		err := Scan(u, prefix, func(ctx context.Context, rdb *goredis.Client, batch []string) error {
			n += len(batch)
			return rdb.Del(ctx, batch...).Err()
		})
		if err != nil {
			t.Errorf("redistest: delete the keys under %s: %v", prefix, err)
		} else if n > 0 {
			t.Logf("redistest: deleted %d keys the test left under %s", n, prefix)
		}
	})
	return prefix
}

// New returns a client of the server whose keys carry a fresh prefix. The
// keys are deleted and the client closed when the test ends.
func New(t testing.TB) *redis.Client {
	t.Helper()
	u := URL(t)
	c, err := redis.Open(u, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	prefix := NewPrefix(t) // its cleanup runs after the Close below
	t.Cleanup(func() { c.Close() })
	return c.WithKeyPrefix(prefix)
}

// Scan calls fn with each batch of keys under prefix, through a client of
// its own, which fn may use to act on them (NewPrefix's cleanup deletes
// them); a test that checks what a process left in Redis lists them.
func Scan(u config.URL, prefix string, fn func(context.Context, *goredis.Client, []string) error) error {
	opt, err := goredis.ParseURL(u.Value())
	if err != nil {
		return err
	}
	rdb := goredis.NewClient(opt)
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Quote what SCAN's MATCH pattern gives a meaning.
	pattern := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`).Replace(prefix) + "*"
	var cursor uint64
	for {
		batch, next, err := rdb.Scan(ctx, cursor, pattern, 1000).Result()
		if err != nil {
			return err
		}
		if len(batch) > 0 {
			if err := fn(ctx, rdb, batch); err != nil {
				return err
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}
