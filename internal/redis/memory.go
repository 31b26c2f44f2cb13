package redis

import (
	"context"
	"sync"
	"time"
)

// Memory is the in-process stand-in for Client when REDIS_URL is unset.
// It has Client's methods and meaning, but each process has its own, so
// replicas do not share counters or cached values.
type Memory struct {
	now func() time.Time

	mu     sync.Mutex
	items  map[string]item
	writes int // since the last sweep of expired items
}

type item struct {
	value   []byte
	count   int64
	expires time.Time // zero: never
}

// NewMemory returns an empty Memory.
func NewMemory() *Memory {
	return &Memory{now: time.Now, items: map[string]item{}}
}

// sweepEvery is how many writes pass between sweeps of expired items, so
// keys that are never read again do not pile up.
const sweepEvery = 1024

// Ping always succeeds: there is nothing to reach.
func (m *Memory) Ping(context.Context) error { return nil }

// Get returns the value of key, or ErrMiss.
func (m *Memory) Get(_ context.Context, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	it, ok := m.live(key)
	if !ok || it.value == nil {
		return nil, ErrMiss
	}
	return append([]byte(nil), it.value...), nil
}

// Set stores value under key for ttl.
func (m *Memory) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.write(key, item{value: append([]byte{}, value...), expires: m.expiry(ttl)})
	return nil
}

// Add stores value under key for ttl unless key holds a live value, and
// reports whether it stored it.
func (m *Memory) Add(_ context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if it, ok := m.live(key); ok && it.value != nil {
		return false, nil
	}
	m.write(key, item{value: append([]byte{}, value...), expires: m.expiry(ttl)})
	return true, nil
}

// Incr adds one to the counter at key and returns the new count. The first
// increment starts the counter's ttl; later ones do not extend it.
func (m *Memory) Incr(_ context.Context, key string, ttl time.Duration) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	it, ok := m.live(key)
	if !ok {
		it = item{expires: m.expiry(ttl)}
	}
	it.count++
	m.write(key, it)
	return it.count, nil
}

// Delete removes key.
func (m *Memory) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.items, key)
	return nil
}

// Close does nothing; it is there to match Client.
func (m *Memory) Close() error { return nil }

func (m *Memory) expiry(ttl time.Duration) time.Time {
	if ttl <= 0 {
		return time.Time{}
	}
	return m.now().Add(ttl)
}

// live returns key's item if it has not expired. m.mu must be held.
func (m *Memory) live(key string) (item, bool) {
	it, ok := m.items[key]
	if ok && !it.expires.IsZero() && !m.now().Before(it.expires) {
		delete(m.items, key)
		return item{}, false
	}
	return it, ok
}

// write stores it, sweeping expired items now and then. m.mu must be held.
func (m *Memory) write(key string, it item) {
	m.items[key] = it
	m.writes++
	if m.writes < sweepEvery {
		return
	}
	m.writes = 0
	now := m.now()
	for k, v := range m.items {
		if !v.expires.IsZero() && !now.Before(v.expires) {
			delete(m.items, k)
		}
	}
}
