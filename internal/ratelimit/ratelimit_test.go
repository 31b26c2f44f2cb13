package ratelimit

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dozen-go/dozen/internal/kv/kvtest"
	"github.com/dozen-go/dozen/internal/redis"
	"github.com/dozen-go/dozen/internal/redis/redistest"
)

var quiet = slog.New(slog.DiscardHandler)

// TestCountsInProcessWhileDown: with the store failing, counts go on in
// the process, so the limit still holds on each replica.
func TestCountsInProcessWhileDown(t *testing.T) {
	l := New(kvtest.Down{}, 3, time.Minute, quiet)
	var allowed int
	for range 5 {
		if ok, _ := l.Allow(t.Context(), "client"); ok {
			allowed++
		}
	}
	if allowed != 3 {
		t.Errorf("allowed %d of 5 with the store down, want 3 counted in-process", allowed)
	}
}

// TestLocalSlides checks the in-process estimate: the previous window's
// count weighs by how much of it the sliding window still covers.
func TestLocalSlides(t *testing.T) {
	var l local
	start := time.UnixMilli(0).Add(1000 * time.Minute) // a window's start
	for range 10 {
		if ok, _ := l.allow("k", 10, time.Minute, start); !ok {
			t.Fatal("refused within the limit")
		}
	}
	if ok, after := l.allow("k", 10, time.Minute, start.Add(15*time.Second)); ok || after != 45*time.Second {
		t.Errorf("11th in the window = %v, %v; want refused, retry after 45s", ok, after)
	}
	// A quarter into the next window, the previous counts 7.5: three more fit, the last at 9.5.
	next := start.Add(time.Minute + 15*time.Second)
	var allowed int
	for range 5 {
		if ok, _ := l.allow("k", 10, time.Minute, next); ok {
			allowed++
		}
	}
	if allowed != 3 {
		t.Errorf("allowed %d a quarter into the next window, want 3 (7.5 + 2 < 10 <= 7.5 + 3)", allowed)
	}
	if ok, _ := l.allow("k", 10, time.Minute, start.Add(3*time.Minute)); !ok {
		t.Error("refused two windows later, when nothing counts")
	}
}

// TestExactAcrossReplicas: three limiters over three Redis clients, as
// three replicas, hammer one key at once; exactly the limit is allowed in
// a window. The window is long so that it cannot end during the test
// (and if it ends, the test says so rather than fail).
func TestExactAcrossReplicas(t *testing.T) {
	const limit, replicas, perReplica = 20, 3, 40
	prefix := redistest.NewPrefix(t)
	var limiters []*Limiter
	for range replicas {
		rdb, err := redis.Open(redistest.URL(t), false, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rdb.Close() })
		limiters = append(limiters, New(rdb.WithKeyPrefix(prefix), limit, time.Hour, quiet))
	}
	began := time.Now()
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for _, l := range limiters {
		for range perReplica {
			wg.Go(func() {
				if ok, _ := l.Allow(t.Context(), "client"); ok {
					allowed.Add(1)
				}
			})
		}
	}
	wg.Wait()
	if began.Truncate(time.Hour) != time.Now().Truncate(time.Hour) {
		t.Skip("the window ended during the test")
	}
	for _, l := range limiters {
		if l.brk.Open() {
			t.Fatal("a limiter fell back to counting in-process: Redis failed")
		}
	}
	if got := allowed.Load(); got != limit {
		t.Errorf("allowed %d of %d across %d replicas, want exactly the limit, %d", got, replicas*perReplica, replicas, limit)
	}
}
