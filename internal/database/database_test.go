package database

import (
	"context"
	"log/slog"
	"os"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/dozen-go/dozen/internal/config"
	"github.com/dozen-go/dozen/internal/postgres/pgtest"
)

// TestTracedQueries: with a tracer, a query made in a span gets a child
// span saying which database and statement; a query outside any span
// (the queue's polling, a scrape) starts no trace.
func TestTracedQueries(t *testing.T) {
	dbs := map[string]config.Database{"sqlite": {DataDir: t.TempDir()}}
	if os.Getenv(pgtest.Variable) != "" || os.Getenv("REQUIRE_INTEGRATION_TESTS") != "" {
		dbs["postgresql"] = config.Database{URL: pgtest.NewDatabase(t), MaxConns: 2, ConnectAttempts: 1}
	}
	for system, cfg := range dbs {
		t.Run(system, func(t *testing.T) {
			spans := tracetest.NewInMemoryExporter()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
			db, err := Open(t.Context(), cfg, slog.New(slog.DiscardHandler), tp)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()

			var n int
			if err := db.SQL.QueryRowContext(context.Background(), "SELECT 1").Scan(&n); err != nil {
				t.Fatal(err)
			}
			if got := spans.GetSpans(); len(got) != 0 {
				t.Errorf("a query outside any span made spans %v", got)
			}

			ctx, parent := tp.Tracer("test").Start(t.Context(), "request")
			if err := db.SQL.QueryRowContext(ctx, "SELECT 2").Scan(&n); err != nil {
				t.Fatal(err)
			}
			parent.End()
			var found bool
			for _, s := range spans.GetSpans() {
				if s.Parent.SpanID() != parent.SpanContext().SpanID() {
					continue
				}
				attrs := map[string]string{}
				for _, kv := range s.Attributes {
					attrs[string(kv.Key)] = kv.Value.String()
				}
				if attrs["db.query.text"] == "SELECT 2" {
					found = true
					if attrs["db.system.name"] != system {
						t.Errorf("db.system.name = %q, want %q", attrs["db.system.name"], system)
					}
				}
			}
			if !found {
				t.Errorf("no child span with the query among %v", spans.GetSpans())
			}
		})
	}
}
