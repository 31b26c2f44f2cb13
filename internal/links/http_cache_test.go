package links

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dozen-go/dozen/internal/cache"
	"github.com/dozen-go/dozen/internal/config"
	"github.com/dozen-go/dozen/internal/httpapi"
	"github.com/dozen-go/dozen/internal/integration"
	"github.com/dozen-go/dozen/internal/kv"
	"github.com/dozen-go/dozen/internal/kv/kvtest"
	"github.com/dozen-go/dozen/internal/links/linkconfig"
	"github.com/dozen-go/dozen/internal/ratelimit"
	"github.com/dozen-go/dozen/internal/redis"
	"github.com/dozen-go/dozen/internal/redis/redistest"
)

// testRedis returns a client of TEST_REDIS_URL whose keys are the test's
// own and go when it ends, or skips.
func testRedis(t *testing.T) *redis.Client {
	t.Helper()
	return redistest.New(t)
}

// TestRedisDownFallsBack checks that with the KV down, redirects and the
// rate limit keep working, and no client sees the KV's error.
func TestRedisDownFallsBack(t *testing.T) {
	t.Parallel() // it waits on timeouts: let the package's other tests run meanwhile
	// A real client of a port nobody listens on, and a fake that fails.
	u, _ := config.ParseURL("redis://127.0.0.1:1/0")
	closed, err := redis.Open(u, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer closed.Close()
	for name, store := range map[string]sharedStore{"closed port": closed, "failing": kvtest.Down{}} {
		t.Run(name, func(t *testing.T) { redisDown(t, store) })
	}
}

// sharedStore is what Redis is to the link handlers: the cache's KV and
// the rate limit's store.
type sharedStore interface {
	kv.KV
	ratelimit.Store
}

func redisDown(t *testing.T, store sharedStore) {
	s := newLinkServer(t, 2)
	d, _, _ := testDeps(t)
	d.Links = Feature{
		Config: linkconfig.Config{APITokens: linkconfig.Tokens{tokenA}, MaxPageSize: 5}, IdempotencyTTL: time.Hour,
		Store:       s.store,
		Cache:       cache.NewShared[CachedLink](store, "link:", time.Minute, quietLog),
		Clicks:      s.clicks,
		CreateLimit: httpapi.NewRateLimit(quietLog, "create", 2, time.Minute, store),
		Now:         time.Now,
	}
	s.h = newServer(d)
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
	var servers []http.Handler
	for range 2 {
		d, _, _ := testDeps(t)
		d.Links.Config.APITokens = linkconfig.Tokens{tokenA}
		d.Links.CreateLimit = httpapi.NewRateLimit(quietLog, "create", 4, time.Minute, rdb)
		servers = append(servers, newServer(d))
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

// ownRedis is a redis-server this test starts on a port of its own, with
// an append-only file in dir so that a restart brings its data back.
type ownRedis struct {
	t    *testing.T
	dir  string
	port int
	cmd  *exec.Cmd
}

// startOwnRedis starts a redis-server, or skips when there is none to run.
func startOwnRedis(t *testing.T) *ownRedis {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		integration.Skip(t, "TEST_REDIS_URL", "redis://127.0.0.1:6379/15 with redis-server on PATH")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	r := &ownRedis{t: t, dir: t.TempDir(), port: port}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *ownRedis) url() config.URL {
	u, _ := config.ParseURL(fmt.Sprintf("redis://127.0.0.1:%d/0", r.port))
	return u
}

func (r *ownRedis) start() {
	r.t.Helper()
	r.cmd = exec.Command("redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--dir", r.dir, "--appendonly", "yes", "--appendfsync", "always", "--save", "")
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	c, err := redis.Open(r.url(), false, nil)
	if err != nil {
		r.t.Fatal(err)
	}
	defer c.Close()
	for deadline := time.Now().Add(10 * time.Second); c.Ping(r.t.Context()) != nil; {
		if time.Now().After(deadline) {
			r.t.Fatal("own redis-server did not answer within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop shuts the server down as SIGTERM does: it writes its data and
// exits.
func (r *ownRedis) stop() {
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	r.cmd.Wait()
	r.cmd = nil
}

// TestDeleteWhileRedisDown deletes a cached link while Redis is down, then
// brings Redis back from its append-only file and asks another replica,
// one that never saw the outage: a DELETE that answered 2xx never
// redirects again; one that answered 503 changed nothing and succeeds once
// Redis is back.
func TestDeleteWhileRedisDown(t *testing.T) {
	t.Parallel() // it waits on timeouts: let the package's other tests run meanwhile
	rds := startOwnRedis(t)
	st := newMemStore()
	replica := func() http.Handler {
		d, _, _ := testDeps(t)
		c, err := redis.Open(rds.url(), false, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		d.Links.Config.APITokens = linkconfig.Tokens{tokenA}
		d.Links.Store = st
		d.Links.Cache = cache.NewShared[CachedLink](c, "link:", time.Hour, quietLog)
		return newServer(d)
	}
	first, second := replica(), replica()
	do := func(h http.Handler, method, path string) int {
		r := httptest.NewRequest(method, path, nil)
		r.Header.Set("Authorization", "Bearer "+tokenA)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Code
	}
	if _, err := st.CreateLink(t.Context(), Link{Code: "gone", URL: "https://example.com/gone"}, nil); err != nil {
		t.Fatal(err)
	}
	if got := do(first, "GET", "/gone"); got != http.StatusFound {
		t.Fatalf("redirect before the outage = %d, want 302", got)
	}

	rds.stop()
	deleted := do(first, "DELETE", "/v1/links/gone")
	rds.start()

	switch deleted {
	case http.StatusNoContent:
		if got := do(second, "GET", "/gone"); got != http.StatusNotFound {
			t.Errorf("redirect after a 204 DELETE during the outage, Redis back = %d, want 404", got)
		}
	case http.StatusServiceUnavailable:
		if got := do(second, "GET", "/v1/links/gone"); got != http.StatusOK {
			t.Errorf("GET after a 503 DELETE = %d, want 200: a refused delete changes nothing", got)
		}
		if got := do(second, "DELETE", "/v1/links/gone"); got != http.StatusNoContent {
			t.Fatalf("DELETE with Redis back = %d, want 204", got)
		}
		for name, h := range map[string]http.Handler{"first": first, "second": second} {
			if got := do(h, "GET", "/gone"); got != http.StatusNotFound {
				t.Errorf("redirect on the %s replica after the DELETE = %d, want 404", name, got)
			}
		}
	default:
		t.Fatalf("DELETE with Redis down = %d, want 204 or 503", deleted)
	}
}
