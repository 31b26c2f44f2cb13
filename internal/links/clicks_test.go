package links

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"sync"
	"testing"
	"time"
)

// memSink is a ClickSink that keeps the batches it gets and skips one
// whose ID it has seen, as the store does. While down is set it fails;
// while lose is set it stores and then fails, as a write whose commit went
// through and whose reply was lost.
type memSink struct {
	mu     sync.Mutex
	down   bool
	lose   bool
	totals map[int64]int64
	seen   map[string]bool
	writes int
}

func (s *memSink) AppendClicks(_ context.Context, b ClickBatch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	if s.down {
		return errors.New("database down")
	}
	if !s.seen[b.ID] {
		if s.seen == nil {
			s.seen = map[string]bool{}
		}
		s.seen[b.ID] = true
		for id, n := range b.Counts {
			s.totals[id] += n
		}
	}
	if s.lose {
		return errors.New("connection reset after COMMIT")
	}
	return nil
}

// flushAll flushes c, with sink up, and checks that sink holds want and
// nothing is left pending.
func flushAll(t *testing.T, c *Clicks, sink *memSink, want map[int64]int64) {
	t.Helper()
	if err := c.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(sink.totals, want) {
		t.Errorf("stored clicks = %v, want %v", sink.totals, want)
	}
	if got := c.Pending(); got != 0 {
		t.Errorf("Pending() after flush = %d, want 0", got)
	}
}

func TestClicksFlushKeepsOnFailure(t *testing.T) {
	sink := &memSink{totals: map[int64]int64{}, down: true}
	c := NewClicks(sink, slog.New(slog.DiscardHandler), time.Hour, nil)
	for range 3 {
		c.Record(t.Context(), 1)
	}
	c.Record(t.Context(), 2)
	if err := c.Flush(t.Context()); err == nil {
		t.Fatal("Flush() with the sink down = nil, want the error")
	}
	if got := c.Pending(); got != 4 {
		t.Fatalf("Pending() after a failed flush = %d, want 4 kept", got)
	}
	c.Record(t.Context(), 1)
	sink.down = false
	flushAll(t, c, sink, map[int64]int64{1: 4, 2: 1})
}

// TestClicksLostReplyCountsOnce flushes while every write is stored but
// reported failed: the batch is written again under its ID, not merged
// with newer clicks, so a sink that skips a seen ID counts each click once.
func TestClicksLostReplyCountsOnce(t *testing.T) {
	sink := &memSink{totals: map[int64]int64{}, lose: true}
	c := NewClicks(sink, slog.New(slog.DiscardHandler), time.Hour, nil)
	for range 3 {
		c.Record(t.Context(), 1)
	}
	if err := c.Flush(t.Context()); err == nil {
		t.Fatal("Flush() with the reply lost = nil, want the error")
	}
	c.Record(t.Context(), 1)
	c.Record(t.Context(), 2)
	if err := c.Flush(t.Context()); err == nil {
		t.Fatal("second Flush() with the reply lost = nil, want the error")
	}
	sink.lose = false
	flushAll(t, c, sink, map[int64]int64{1: 4, 2: 1})
}

func TestClicksRunFlushesOnStop(t *testing.T) {
	sink := &memSink{totals: map[int64]int64{}}
	c := NewClicks(sink, slog.New(slog.DiscardHandler), time.Hour, nil)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				c.Record(t.Context(), 7)
			}
		})
	}
	wg.Wait()
	cancel()
	<-done
	if got := sink.totals[7]; got != 8000 {
		t.Errorf("clicks stored after stop = %d, want 8000", got)
	}
}

// committingSink stores every batch, like a commit that went through, but
// reports its context's error when that ended during the call: a write
// cancelled mid-commit whose outcome the caller cannot know.
type committingSink struct {
	memSink
	calls   chan struct{}
	release chan struct{}
}

func (s *committingSink) AppendClicks(ctx context.Context, b ClickBatch) error {
	s.calls <- struct{}{}
	select {
	case <-s.release:
	case <-ctx.Done():
	}
	_ = s.memSink.AppendClicks(ctx, b)
	return ctx.Err()
}

// TestClicksStopDoesNotCancelAWrite stops Run while a flush is writing: the
// write is not cancelled, so its batch, already committed, is not kept
// and written again by the final flush.
func TestClicksStopDoesNotCancelAWrite(t *testing.T) {
	sink := &committingSink{memSink: memSink{totals: map[int64]int64{}}, calls: make(chan struct{}, 10), release: make(chan struct{})}
	c := NewClicks(sink, slog.New(slog.DiscardHandler), 10*time.Millisecond, nil)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	for range 5 {
		c.Record(t.Context(), 3)
	}
	<-sink.calls // the first flush is writing
	cancel()
	time.Sleep(50 * time.Millisecond) // a cancellation would have reached the write by now
	close(sink.release)
	<-done
	if got := sink.totals[3]; got != 5 {
		t.Errorf("clicks stored = %d after 5 redirects and a stop during a write, want 5", got)
	}
}
