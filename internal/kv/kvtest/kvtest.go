// Package kvtest helps test code that uses a kv.KV.
package kvtest

import (
	"context"
	"errors"
	"time"
)

// ErrDown is what Down fails with: a connection error whose text a client
// must never see.
var ErrDown = errors.New("dial tcp 10.0.0.9:6379: connection refused")

// Down is a kv.KV that fails every call, like a Redis that went away.
type Down struct{}

// Get fails.
func (Down) Get(context.Context, string) ([]byte, error) { return nil, ErrDown }

// Set fails.
func (Down) Set(context.Context, string, []byte, time.Duration) error { return ErrDown }

// Add fails.
func (Down) Add(context.Context, string, []byte, time.Duration) (bool, error) { return false, ErrDown }

// Incr fails.
func (Down) Incr(context.Context, string, time.Duration) (int64, error) { return 0, ErrDown }

// SlidingWindow fails, as a rate limit's store (see ratelimit.Store).
func (Down) SlidingWindow(context.Context, string, int, time.Duration) (bool, time.Duration, error) {
	return false, 0, ErrDown
}
