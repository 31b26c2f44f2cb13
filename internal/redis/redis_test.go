package redis

import (
	"context"
	"crypto/rand"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.uber.org/goleak"

	"github.com/dozen-go/dozen/internal/config"
	"github.com/dozen-go/dozen/internal/integration"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// store is what the contract suite exercises: the methods a consumer's
// interface picks from.
type store interface {
	Ping(context.Context) error
	Get(ctx context.Context, key string) ([]byte, error)
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	Add(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error)
	Incr(ctx context.Context, key string, ttl time.Duration) (int64, error)
	Delete(ctx context.Context, key string) error
}

// TestContract runs the contract consumers rely on against real Redis.
func TestContract(t *testing.T) {
	t.Run("redis", func(t *testing.T) {
		raw := os.Getenv("TEST_REDIS_URL")
		if raw == "" {
			integration.Skip(t, "TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
		}
		u, err := config.ParseURL(raw)
		if err != nil {
			t.Fatal("TEST_REDIS_URL is not a URL")
		}
		c, err := Open(u, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// Keys of this run only, so runs sharing the server do not collide.
		contract(t, c.WithKeyPrefix("test_"+rand.Text()[:10]+":"), "")
	})
}

// TestKeyPrefix checks that two clients with different prefixes on one
// Redis database see only their own keys, as two services sharing it.
func TestKeyPrefix(t *testing.T) {
	raw := os.Getenv("TEST_REDIS_URL")
	if raw == "" {
		integration.Skip(t, "TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
	}
	u, err := config.ParseURL(raw)
	if err != nil {
		t.Fatal("TEST_REDIS_URL is not a URL")
	}
	raw0, err := Open(u, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer raw0.Close()
	ctx := t.Context()
	run := "test_" + rand.Text()[:10]
	a, b := raw0.WithKeyPrefix(run+"a:"), raw0.WithKeyPrefix(run+"b:")
	t.Cleanup(func() {
		for _, k := range []string{"a:k", "a:n", "b:k", "b:n"} {
			raw0.Delete(context.Background(), run+k)
		}
	})
	if err := a.Set(ctx, "k", []byte("va"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(ctx, "k"); !errors.Is(err, ErrMiss) {
		t.Errorf("b.Get(k set by a) error = %v, want ErrMiss", err)
	}
	if got, err := raw0.Get(ctx, run+"a:k"); err != nil || string(got) != "va" {
		t.Errorf("Get(%sa:k) = %q, %v; want a's value stored under its prefix", run, got, err)
	}
	if ok, err := b.Add(ctx, "k", []byte("vb"), time.Minute); err != nil || !ok {
		t.Errorf("b.Add(k set by a) = %v, %v; want true: b's k is its own", ok, err)
	}
	a.Incr(ctx, "n", time.Minute)
	if n, err := b.Incr(ctx, "n", time.Minute); err != nil || n != 1 {
		t.Errorf("b.Incr(n counted by a) = %d, %v; want its own count of 1", n, err)
	}
	if err := a.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if _, err := raw0.Get(ctx, run+"a:k"); !errors.Is(err, ErrMiss) {
		t.Errorf("after a.Delete(k), %sa:k error = %v, want ErrMiss", run, err)
	}
}

func contract(t *testing.T, s store, prefix string) {
	ctx := t.Context()
	k := func(name string) string {
		t.Cleanup(func() { s.Delete(context.Background(), prefix+name) })
		return prefix + name
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping() = %v", err)
	}
	t.Run("get set delete", func(t *testing.T) {
		key := k("value")
		if _, err := s.Get(ctx, key); !errors.Is(err, ErrMiss) {
			t.Errorf("Get(unset) error = %v, want ErrMiss", err)
		}
		if err := s.Set(ctx, key, []byte("v1"), time.Minute); err != nil {
			t.Fatalf("Set() = %v", err)
		}
		if got, err := s.Get(ctx, key); err != nil || string(got) != "v1" {
			t.Errorf("Get() = %q, %v; want v1", got, err)
		}
		if err := s.Delete(ctx, key); err != nil {
			t.Fatalf("Delete() = %v", err)
		}
		if _, err := s.Get(ctx, key); !errors.Is(err, ErrMiss) {
			t.Errorf("Get(deleted) error = %v, want ErrMiss", err)
		}
	})
	t.Run("add stores only what is absent", func(t *testing.T) {
		key := k("add")
		if ok, err := s.Add(ctx, key, []byte("first"), time.Minute); err != nil || !ok {
			t.Fatalf("Add(absent) = %v, %v; want true", ok, err)
		}
		if ok, err := s.Add(ctx, key, []byte("second"), time.Minute); err != nil || ok {
			t.Errorf("Add(present) = %v, %v; want false", ok, err)
		}
		if got, err := s.Get(ctx, key); err != nil || string(got) != "first" {
			t.Errorf("Get() after two Adds = %q, %v; want first", got, err)
		}
		if err := s.Set(ctx, key, []byte("third"), 100*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
		if ok, err := s.Add(ctx, key, []byte("fourth"), time.Minute); err != nil || !ok {
			t.Errorf("Add(expired) = %v, %v; want true", ok, err)
		}
	})
	t.Run("values expire", func(t *testing.T) {
		key := k("short")
		if err := s.Set(ctx, key, []byte("v"), 100*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
		if got, err := s.Get(ctx, key); !errors.Is(err, ErrMiss) {
			t.Errorf("Get(expired) = %q, %v; want ErrMiss", got, err)
		}
	})
	t.Run("counters count and keep their first TTL", func(t *testing.T) {
		key := k("counter")
		for want := int64(1); want <= 3; want++ {
			if got, err := s.Incr(ctx, key, 300*time.Millisecond); err != nil || got != want {
				t.Fatalf("Incr() = %d, %v; want %d", got, err, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(250 * time.Millisecond) // past the first increment's TTL
		if got, err := s.Incr(ctx, key, 300*time.Millisecond); err != nil || got != 1 {
			t.Errorf("Incr() after the window = %d, %v; want a fresh count of 1", got, err)
		}
	})
}

func TestOpenKeepsSecretsOut(t *testing.T) {
	const password = "redis-s3cr3t"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	u, _ := config.ParseURL("redis://:" + password + "@" + addr + "/0")
	c, err := Open(u, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx); err == nil || strings.Contains(err.Error(), password) {
		t.Errorf("Ping(down server) = %v, want an error without the password", err)
	}

	bad, _ := config.ParseURL("redis://:" + password + "@" + addr + "/notanumber")
	if _, err := Open(bad, false, nil); err == nil || strings.Contains(err.Error(), password) || !strings.Contains(err.Error(), "REDIS_URL") {
		t.Errorf("Open(bad URL) = %v, want an error naming REDIS_URL without the password", err)
	}
}

func TestOpenTLSVerification(t *testing.T) {
	u, _ := config.ParseURL("rediss://:pw@redis.example:6380")
	tests := []struct {
		skip bool
		want bool
	}{{false, false}, {true, true}}
	for _, tt := range tests {
		c, err := Open(u, tt.skip, nil)
		if err != nil {
			t.Fatal(err)
		}
		tlsConf := c.rdb.Options().TLSConfig
		if tlsConf == nil || tlsConf.InsecureSkipVerify != tt.want {
			t.Errorf("Open(rediss://, skipVerify=%v) TLS config = %+v, want TLS with InsecureSkipVerify=%v", tt.skip, tlsConf, tt.want)
		}
		c.Close()
	}
	plain, _ := config.ParseURL("redis://h:6379")
	c, _ := Open(plain, true, nil)
	defer c.Close()
	if c.rdb.Options().TLSConfig != nil {
		t.Errorf("Open(redis://, skipVerify) uses TLS, want plain TCP")
	}
}

// TestTracedCommands: with a tracer, each command made in a span gets a
// child span named after the command, without its arguments.
func TestTracedCommands(t *testing.T) {
	raw := os.Getenv("TEST_REDIS_URL")
	if raw == "" {
		integration.Skip(t, "TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
	}
	u, err := config.ParseURL(raw)
	if err != nil {
		t.Fatal("TEST_REDIS_URL is not a URL")
	}
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	c, err := Open(u, false, tp)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	key := "test_" + rand.Text()[:10] + ":traced"
	defer c.Delete(context.Background(), key)

	// Outside any span, as a readiness probe pings: no trace at all.
	if err := c.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, s := range spans.GetSpans() {
		t.Errorf("span %q started outside any request's or job's span", s.Name)
	}

	ctx, parent := tp.Tracer("test").Start(t.Context(), "request")
	if err := c.Set(ctx, key, []byte("secret-value"), time.Minute); err != nil {
		t.Fatal(err)
	}
	parent.End()
	var found bool
	for _, s := range spans.GetSpans() {
		if s.SpanContext.TraceID() != parent.SpanContext().TraceID() {
			t.Errorf("span %q is outside the request's trace", s.Name)
		}
		for _, kv := range s.Attributes {
			if strings.Contains(kv.Value.String(), "secret-value") || strings.Contains(kv.Value.String(), key) {
				t.Errorf("span %s records the command's arguments: %s=%s", s.Name, kv.Key, kv.Value.String())
			}
		}
		if s.Name == "set" && s.Parent.SpanID() == parent.SpanContext().SpanID() {
			found = true
		}
	}
	if !found {
		t.Errorf("no set span under the request among %v", spans.GetSpans())
	}
}
