package httpapi

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dozen-go/dozen/internal/config"
	"github.com/dozen-go/dozen/internal/integration"
	"github.com/dozen-go/dozen/internal/links"
	"github.com/dozen-go/dozen/internal/redis"
)

// testRedis returns a client of TEST_REDIS_URL, or skips.
func testRedis(t *testing.T) *redis.Client {
	t.Helper()
	raw := os.Getenv("TEST_REDIS_URL")
	if raw == "" {
		integration.Skip(t, "TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
	}
	u, err := config.ParseURL(raw)
	if err != nil {
		t.Fatal("TEST_REDIS_URL is not a URL")
	}
	c, err := redis.Open(u, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestLinkCache(t *testing.T) {
	caches := map[string]func(t *testing.T) LinkCache{
		"in-process":   func(*testing.T) LinkCache { return NewMemoryLinkCache(time.Minute) },
		"kv in memory": func(*testing.T) LinkCache { return NewLinkCache(redis.NewMemory(), time.Minute, quietLog) },
		"redis":        func(t *testing.T) LinkCache { return NewLinkCache(testRedis(t), time.Minute, quietLog) },
	}
	for name, open := range caches {
		t.Run(name, func(t *testing.T) {
			c := open(t)
			ctx := t.Context()
			code := "c" + strings.ToLower(rand.Text()[:10])
			if _, ok := c.Get(ctx, code); ok {
				t.Fatal("Get() of an absent code hit")
			}
			exp := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
			c.Set(ctx, links.Link{ID: 42, Code: code, URL: "https://example.com", ExpiresAt: &exp})
			got, ok := c.Get(ctx, code)
			if !ok || got.ID != 42 || got.URL != "https://example.com" || !got.ExpiresAt.Equal(exp) {
				t.Errorf("Get() = %+v, %v; want the link set", got, ok)
			}
			c.Delete(ctx, code)
			if _, ok := c.Get(ctx, code); ok {
				t.Error("Get() after Delete hit")
			}
		})
	}
}

// brokenKV fails every call, like a Redis that went away.
type brokenKV struct{}

var errDown = errors.New("dial tcp 10.0.0.9:6379: connection refused")

func (brokenKV) Get(context.Context, string) ([]byte, error)                { return nil, errDown }
func (brokenKV) Set(context.Context, string, []byte, time.Duration) error   { return errDown }
func (brokenKV) Incr(context.Context, string, time.Duration) (int64, error) { return 0, errDown }
func (brokenKV) Delete(context.Context, string) error                       { return errDown }

// TestRedisDownFallsBack checks that with the KV down, redirects and the
// rate limit keep working, and no client sees the KV's error.
func TestRedisDownFallsBack(t *testing.T) {
	// A real client of a port nobody listens on, and a fake that fails.
	u, _ := config.ParseURL("redis://127.0.0.1:1/0")
	closed, err := redis.Open(u, false)
	if err != nil {
		t.Fatal(err)
	}
	defer closed.Close()
	for name, kv := range map[string]KV{"closed port": closed, "failing": brokenKV{}} {
		t.Run(name, func(t *testing.T) { redisDown(t, kv) })
	}
}

func redisDown(t *testing.T, kv KV) {
	s := newLinkServer(t, 2)
	d, _, _ := testDeps(t)
	d.Links = LinkDeps{
		Config:      config.Links{APITokens: []config.Secret{tokenA}, MaxPageSize: 5, IdempotencyTTL: time.Hour},
		Store:       s.store,
		Cache:       NewLinkCache(kv, time.Minute, quietLog),
		Clicks:      s.clicks,
		CreateLimit: NewRateLimit(quietLog, 2, time.Minute, NewLimitCounter(kv, quietLog)),
		Now:         time.Now,
	}
	s.h = NewServer(d)
	var codes []int
	for i := range 3 {
		rec := s.create(fmt.Sprintf(`{"url":"https://example.com/%d","code":"down%d"}`, i, i+2))
		codes = append(codes, rec.Code)
		if strings.Contains(rec.Body.String(), "refused") {
			t.Errorf("response %q shows the KV's error", rec.Body)
		}
	}
	if fmt.Sprint(codes) != "[201 201 429]" {
		t.Errorf("creates with the KV down = %v, want [201 201 429]: limited in-process", codes)
	}
	rec := s.do("GET", "/down2", "")
	if rec.Code != http.StatusFound {
		t.Errorf("redirect with the KV down = %d, want 302 from the database", rec.Code)
	}
}

// TestRateLimitSharedAcrossServers runs two servers on one Redis: the
// limit holds for their sum, as it would across replicas.
func TestRateLimitSharedAcrossServers(t *testing.T) {
	rdb := testRedis(t)
	// A fresh key space per run: the client key is the client IP.
	prefix := strings.ToLower(rand.Text()[:8])
	var servers []http.Handler
	for range 2 {
		d, _, _ := testDeps(t)
		d.Links.Config.APITokens = []config.Secret{tokenA}
		d.Links.CreateLimit = NewRateLimit(quietLog, 4, time.Minute, NewLimitCounter(prefixedKV{rdb, prefix}, quietLog))
		servers = append(servers, NewServer(d))
	}
	var codes []int
	for i := range 6 {
		r := httptest.NewRequest("POST", "/v1/links", strings.NewReader(fmt.Sprintf(`{"url":"https://example.com/%d"}`, i)))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer "+tokenA)
		rec := httptest.NewRecorder()
		servers[i%2].ServeHTTP(rec, r)
		codes = append(codes, rec.Code)
	}
	if fmt.Sprint(codes) != "[201 201 201 201 429 429]" {
		t.Errorf("creates alternating between two servers = %v, want 4 allowed in all", codes)
	}
}

// prefixedKV keeps a test's keys apart from other runs'.
type prefixedKV struct {
	KV
	prefix string
}

func (p prefixedKV) Get(ctx context.Context, k string) ([]byte, error) {
	return p.KV.Get(ctx, p.prefix+k)
}
func (p prefixedKV) Incr(ctx context.Context, k string, ttl time.Duration) (int64, error) {
	return p.KV.Incr(ctx, p.prefix+k, ttl)
}
