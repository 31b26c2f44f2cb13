package links

import (
	"context"
	"log/slog"
	"maps"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// ClickSink stores a batch of clicks: it appends them to the click log and
// enqueues the job that folds them into the links' counts, in one
// transaction.
type ClickSink interface {
	AppendClicks(ctx context.Context, counts map[int64]int64, at time.Time) error
}

// Clicks counts redirects in memory and writes them to the store in
// batches, so that the redirect path never waits on a database write.
//
// The loss window is stated, not hidden: clicks are flushed every
// interval and when Run returns, so a crash (not a graceful stop) loses
// at most one interval of clicks, plus any that could not be written
// while the database was down.
type Clicks struct {
	sink     ClickSink
	log      *slog.Logger
	interval time.Duration
	tracer   trace.Tracer // nil: untraced

	mu        sync.Mutex
	counts    map[int64]int64 // link id → clicks not yet flushed
	redirects []trace.Link    // the sampled spans that counted them, at most maxLinks
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

// Pending returns how many clicks wait to be flushed.
func (c *Clicks) Pending() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var n int64
	for _, v := range c.counts {
		n += v
	}
	return n
}

// Run flushes every interval until ctx ends, then flushes once more, so
// that a graceful stop loses nothing.
//
// The end of ctx never cuts a write off: one cancelled during its commit
// may have committed all the same, and its clicks, kept for the next
// flush, would then be counted twice. Each write has a deadline of its
// own instead, one interval plus five seconds.
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

// Flush writes the pending clicks. On failure they are kept for the next
// flush.
//
// When traced, a flush's span links to the redirects it writes, and is a
// child of the first of them: following one redirect's trace leads to the
// write of its click and to the job that folds it.
func (c *Clicks) Flush(ctx context.Context) error {
	c.mu.Lock()
	batch, redirects := c.counts, c.redirects
	c.counts, c.redirects = map[int64]int64{}, nil
	c.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	if c.tracer != nil {
		if len(redirects) > 0 {
			ctx = trace.ContextWithSpanContext(ctx, redirects[0].SpanContext)
		}
		var span trace.Span
		ctx, span = c.tracer.Start(ctx, "flush clicks", trace.WithLinks(redirects...),
			trace.WithAttributes(attribute.Int("links", len(batch))))
		defer span.End()
	}
	err := c.sink.AppendClicks(ctx, batch, time.Now())
	if err == nil {
		return nil
	}
	trace.SpanFromContext(ctx).SetStatus(codes.Error, err.Error())
	c.mu.Lock()
	for id, n := range maps.All(batch) {
		c.counts[id] += n
	}
	c.mu.Unlock()
	c.log.Warn("flush clicks; kept for the next try", "error", err.Error())
	return err
}
