package jobs

import (
	"context"
	"testing"
	"time"

	"github.com/dozen-go/dozen/internal/idempotency"
	"github.com/dozen-go/dozen/internal/store"
)

// TestIdempotencyPurge runs the worker with AddIdempotencyPurge alone, as
// a service without features of its own does: the expired key is deleted
// once the worker starts, the live one is kept.
func TestIdempotencyPurge(t *testing.T) {
	for _, d := range databases(t) {
		t.Run(d.Dialect, func(t *testing.T) {
			ctx := t.Context()
			st := store.New(d.SQL)
			now := time.Now()
			for key, claimed := range map[string]time.Time{"expired": now.Add(-2 * time.Hour), "live": now} {
				c := idempotency.Claim{Scope: "s", Key: key, ID: key, Hash: []byte("h"), Now: claimed, TTL: time.Hour, StaleAfter: time.Minute}
				if _, err := st.ClaimIdempotencyKey(ctx, c); err != nil {
					t.Fatal(err)
				}
			}
			set := NewSet()
			AddIdempotencyPurge(set, st, quiet, time.Hour)
			c, err := NewWorker(d.SQL, d.Dialect, quiet, options(), set)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Start(context.WithoutCancel(ctx)); err != nil {
				t.Fatal(err)
			}
			defer stopWorker(t, c)
			keys := func() []string {
				rows, err := d.SQL.QueryContext(ctx, `SELECT key FROM idempotency_keys ORDER BY key`)
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				var out []string
				for rows.Next() {
					var k string
					if err := rows.Scan(&k); err != nil {
						t.Fatal(err)
					}
					out = append(out, k)
				}
				return out
			}
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				got := keys()
				if len(got) == 1 && got[0] == "live" {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("keys after 10s = %q, want only the live one", got)
				}
			}
		})
	}
}
