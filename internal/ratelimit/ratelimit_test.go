package ratelimit

import (
	"log/slog"
	"testing"
	"time"

	"github.com/dozen-go/dozen/internal/kv/kvtest"
	"github.com/dozen-go/dozen/internal/redis/redistest"
)

var quiet = slog.New(slog.DiscardHandler)

// TestCountsInProcessWhileDown: with the KV failing, counts go on in the
// process, so the limit still holds on each replica.
func TestCountsInProcessWhileDown(t *testing.T) {
	c := NewCounter(kvtest.Down{}, quiet)
	c.Config(10, time.Minute)
	now := time.Now().Truncate(time.Minute)
	for range 3 {
		if err := c.Increment("client", now); err != nil {
			t.Fatalf("Increment() = %v, want the fallback to count", err)
		}
	}
	if cur, prev, err := c.Get("client", now, now.Add(-time.Minute)); cur != 3 || prev != 0 || err != nil {
		t.Errorf("Get() = %d, %d, %v; want 3, 0, nil counted in-process", cur, prev, err)
	}
}

// TestSharedBetweenCounters: two counters over one Redis, as on two
// replicas, count against one limit.
func TestSharedBetweenCounters(t *testing.T) {
	rdb := redistest.New(t)
	a, b := NewCounter(rdb, quiet), NewCounter(rdb, quiet)
	now := time.Now().Truncate(time.Minute)
	for _, c := range []*Counter{a, b} {
		c.Config(10, time.Minute)
		if err := c.IncrementBy("client", now, 2); err != nil {
			t.Fatal(err)
		}
	}
	for name, c := range map[string]*Counter{"a": a, "b": b} {
		if cur, _, err := c.Get("client", now, now.Add(-time.Minute)); cur != 4 || err != nil {
			t.Errorf("counter %s: Get() = %d, %v; want 4 counted by both", name, cur, err)
		}
	}
}
