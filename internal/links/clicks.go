package links

import (
	"context"
	"crypto/rand"
	"log/slog"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// ClickBatch is clicks written as one. Its ID makes a write repeated
// after its outcome was lost count once: the sink skips a batch whose ID it
// has stored.
type ClickBatch struct {
	ID     string
	Counts map[int64]int64 // link id → clicks
	At     time.Time       // when the batch was first written
}

// NewClickBatch returns a batch of counts made at, under a new random ID.
func NewClickBatch(counts map[int64]int64, at time.Time) ClickBatch {
	return ClickBatch{ID: rand.Text(), Counts: counts, At: at}
}

// ClickBatchLife is how long a sink keeps the IDs of the batches it
// stored. Clicks gives up a batch it has failed to write for half of it,
// so that no batch is written again once its ID is gone, whatever the
// clocks of web and worker machines say.
const ClickBatchLife = 24 * time.Hour

// ClickSink stores a batch of clicks: it records its ID, appends the
// clicks to the click log and enqueues the job that folds them into the
// links' counts, in one transaction; a batch whose ID it holds already is
// skipped, and that is a success.
type ClickSink interface {
	AppendClicks(ctx context.Context, b ClickBatch) error
}

// Clicks counts redirects in memory and writes them to the store in
// batches, so that the redirect path never waits on a database write.
//
// The loss window is stated, not hidden: clicks are flushed every
// interval and when Run returns, so a crash (not a graceful stop) loses
// at most one interval of clicks, plus any that could not be written
// while the database was down. A batch whose write failed is written
// again as it was, under its ID, never merged with newer clicks: its first
// write may have committed with only the reply lost, and the ID makes the
// store skip it then. One that fails for ClickBatchLife/2 is given up.
type Clicks struct {
	sink     ClickSink
	log      *slog.Logger
	interval time.Duration
	tracer   trace.Tracer // nil: untraced

	flushing sync.Mutex // held by Flush: the failed batch goes before any newer

	mu        sync.Mutex
	counts    map[int64]int64 // link id → clicks not yet in a batch
	redirects []trace.Link    // the sampled spans that counted them, at most maxLinks
	failed    *batch          // the batch whose last write failed, nil when none
}

// batch is a batch with the redirects that made it.
type batch struct {
	ClickBatch
	redirects []trace.Link
}

// maxLinks bounds the redirects one flush span links to: a busy link
// would otherwise link thousands. It is the SDK's default limit too.
const maxLinks = 128

// NewClicks returns a Clicks that flushes to sink every interval. With a
// tracer, each flush is traced; see Flush.
func NewClicks(sink ClickSink, log *slog.Logger, interval time.Duration, tracer trace.TracerProvider) *Clicks {
	c := &Clicks{sink: sink, log: log, interval: interval, counts: map[int64]int64{}}
	if tracer != nil {
		c.tracer = tracer.Tracer("links")
	}
	return c
}

// Record counts one click on the link with the given id, made by the
// request that ctx belongs to.
func (c *Clicks) Record(ctx context.Context, linkID int64) {
	var sc trace.SpanContext
	if c.tracer != nil {
		sc = trace.SpanContextFromContext(ctx)
	}
	c.mu.Lock()
	c.counts[linkID]++
	if sc.IsSampled() && len(c.redirects) < maxLinks {
		c.redirects = append(c.redirects, trace.Link{SpanContext: sc})
	}
	c.mu.Unlock()
}

// Pending returns how many clicks wait to be written.
func (c *Clicks) Pending() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var n int64
	for _, v := range c.counts {
		n += v
	}
	if c.failed != nil {
		for _, v := range c.failed.Counts {
			n += v
		}
	}
	return n
}

// Run flushes every interval until ctx ends, then flushes once more, so
// that a graceful stop loses nothing.
//
// The end of ctx never cuts a write off: a write cancelled at the stop
// would leave its batch to a flush that never comes. Each flush has a
// deadline of its own instead, one interval plus five seconds.
func (c *Clicks) Run(ctx context.Context) {
	flush := func() error {
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.interval+5*time.Second)
		defer cancel()
		return c.Flush(wctx)
	}
	t := time.NewTicker(c.interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			_ = flush() // Flush logged the failure and kept the clicks for the next tick
		case <-ctx.Done():
			if err := flush(); err != nil {
				c.log.Error("clicks lost at shutdown", "clicks", c.Pending(), "error", err.Error())
			}
			return
		}
	}
}

// Flush writes the batch whose last write failed, if any, then the clicks
// counted since the last flush as a new batch. A batch that fails is kept,
// and written again by the next flush.
//
// When traced, a write's span links to the redirects it writes, and is a
// child of the first of them: following one redirect's trace leads to the
// write of its click and to the job that folds it.
func (c *Clicks) Flush(ctx context.Context) error {
	c.flushing.Lock()
	defer c.flushing.Unlock()
	c.mu.Lock()
	failed := c.failed
	c.mu.Unlock()
	if failed != nil {
		if err := c.write(ctx, failed); err != nil {
			return err
		}
	}
	c.mu.Lock()
	if len(c.counts) == 0 {
		c.mu.Unlock()
		return nil
	}
	b := &batch{ClickBatch: NewClickBatch(c.counts, time.Now()), redirects: c.redirects}
	c.counts, c.redirects = map[int64]int64{}, nil
	c.mu.Unlock()
	return c.write(ctx, b)
}

// write writes b, and keeps it as the failed batch when that fails.
func (c *Clicks) write(ctx context.Context, b *batch) error {
	if c.tracer != nil {
		if len(b.redirects) > 0 {
			ctx = trace.ContextWithSpanContext(ctx, b.redirects[0].SpanContext)
		}
		var span trace.Span
		ctx, span = c.tracer.Start(ctx, "flush clicks", trace.WithLinks(b.redirects...),
			trace.WithAttributes(attribute.Int("links", len(b.Counts))))
		defer span.End()
	}
	err := c.sink.AppendClicks(ctx, b.ClickBatch)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failed = nil
	if err == nil {
		return nil
	}
	trace.SpanFromContext(ctx).SetStatus(codes.Error, err.Error())
	if time.Since(b.At) >= ClickBatchLife/2 {
		var n int64
		for _, v := range b.Counts {
			n += v
		}
		c.log.Error("flush clicks; batch given up after failing since it was made", "clicks", n,
			"since", b.At.UTC().Format(time.RFC3339), "error", err.Error())
		return err
	}
	c.failed = b
	c.log.Warn("flush clicks; kept for the next try", "error", err.Error())
	return err
}
