package links

import (
	"context"
	"database/sql"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/dozen-go/dozen/internal/jobs"
	"github.com/dozen-go/dozen/internal/store"
)

// TestTracedClickFlushToFold follows a redirect's click: the flush that
// writes it is a span in the redirect's trace, the fold job is inserted
// from that span, and the worker's span of the fold links back to it.
func TestTracedClickFlushToFold(t *testing.T) {
	for _, d := range databases(t) {
		t.Run(d.Dialect, func(t *testing.T) {
			spans := tracetest.NewInMemoryExporter()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
			ins, err := jobs.NewInserter(d.SQL, d.Dialect, quietLog, tp)
			if err != nil {
				t.Fatal(err)
			}
			web := NewStore(store.New(d.SQL)).WithClickJobs(func(ctx context.Context, tx *sql.Tx) error { return EnqueueFoldTx(ctx, ins, tx) })
			l, err := web.CreateLink(t.Context(), Link{Code: "traced", URL: "https://example.com", CreatedAt: time.Now()}, nil)
			if err != nil {
				t.Fatal(err)
			}

			clicks := NewClicks(web, quietLog, time.Hour, tp)
			ctx, redirect := tp.Tracer("test").Start(t.Context(), "GET /{code}")
			clicks.Record(ctx, l.ID)
			redirect.End()
			if err := clicks.Flush(t.Context()); err != nil {
				t.Fatal(err)
			}
			trace := redirect.SpanContext().TraceID()
			byName := map[string]tracetest.SpanStub{}
			for _, s := range spans.GetSpans() {
				byName[s.Name] = s
			}
			flush, ok := byName["flush clicks"]
			if !ok {
				t.Fatalf("no flush span among %v", names(spans.GetSpans()))
			}
			if flush.SpanContext.TraceID() != trace || flush.Parent.SpanID() != redirect.SpanContext().SpanID() {
				t.Errorf("flush span is not the redirect's child")
			}
			if len(flush.Links) != 1 || flush.Links[0].SpanContext.SpanID() != redirect.SpanContext().SpanID() {
				t.Errorf("flush span links = %v, want the redirect's span", flush.Links)
			}
			insert, ok := byName["river.insert_many"]
			if !ok || insert.Parent.SpanID() != flush.SpanContext.SpanID() {
				t.Fatalf("no insert span under the flush span among %v", names(spans.GetSpans()))
			}

			o := options()
			o.Tracer = tp
			w, err := newLinkWorker(d, NewStore(store.New(d.SQL)), o, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Start(t.Context()); err != nil {
				t.Fatal(err)
			}
			defer stopWorker(t, w)
			deadline := time.Now().Add(10 * time.Second)
			for {
				for _, s := range spans.GetSpans() {
					if s.Name != "river.work/fold_clicks" {
						continue
					}
					for _, link := range s.Links {
						if link.SpanContext.TraceID() == trace && link.SpanContext.SpanID() == insert.SpanContext.SpanID() {
							return
						}
					}
				}
				if time.Now().After(deadline) {
					t.Fatalf("no fold span linked to the insert within 10s; spans: %v", names(spans.GetSpans()))
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

func names(spans tracetest.SpanStubs) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name)
	}
	return out
}
