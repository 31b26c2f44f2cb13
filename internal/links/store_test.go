package links

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/dozen-go/dozen/internal/database/dbtest"
	"github.com/dozen-go/dozen/internal/idempotency"
	"github.com/dozen-go/dozen/internal/store"
	"github.com/dozen-go/dozen/migrations"
)

// TestContract runs the link queries on every database the store
// supports.
func TestContract(t *testing.T) {
	for _, dialect := range migrations.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			linkContract(t, NewStore(store.New(dbtest.Open(t, dialect).SQL)), dialect)
		})
	}
}

// linkContract is the contract suite of the link queries.
func linkContract(t *testing.T, s *Store, dialect string) {
	t.Run("create and get", func(t *testing.T) { createAndGet(t, s) })
	t.Run("list and delete", func(t *testing.T) { listAndDelete(t, s) })
	t.Run("idempotency completed with a link", func(t *testing.T) { linkCompletion(t, s) })
	t.Run("clicks", func(t *testing.T) { clicks(t, s) })
	t.Run("click batches", func(t *testing.T) { clickBatches(t, s) })
	t.Run("concurrent folds", func(t *testing.T) { concurrentFolds(t, s, dialect) })
	t.Run("purge", func(t *testing.T) { purge(t, s) })
}

func mustCreate(t *testing.T, s *Store, code string, expires *time.Time) Link {
	t.Helper()
	l, err := s.CreateLink(t.Context(), Link{Code: code, URL: "https://example.com/" + code, CreatedAt: time.Now(), ExpiresAt: expires}, nil)
	if err != nil {
		t.Fatalf("CreateLink(%q) = %v", code, err)
	}
	return l
}

func listAndDelete(t *testing.T, s *Store) {
	ctx := t.Context()
	var want []string
	for i := range 5 {
		want = append(want, mustCreate(t, s, fmt.Sprintf("list%d", i), nil).Code)
	}
	first, err := s.ListLinks(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	// Page through from before the first of ours, two at a time.
	var got []string
	after := first[len(first)-6].ID
	for {
		page, err := s.ListLinks(ctx, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		if len(page) > 2 {
			t.Fatalf("ListLinks(limit 2) returned %d links", len(page))
		}
		for _, l := range page {
			got = append(got, l.Code)
			after = l.ID
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("paged codes = %q, want %q", got, want)
	}

	if err := s.DeleteLink(ctx, "list0"); err != nil {
		t.Fatalf("DeleteLink(list0) = %v", err)
	}
	if err := s.DeleteLink(ctx, "list0"); !errors.Is(err, ErrNotFound) {
		t.Errorf("DeleteLink(list0) again = %v, want ErrNotFound", err)
	}
	if _, err := s.Link(ctx, "list0"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Link(deleted) = %v, want ErrNotFound", err)
	}
}

func clicks(t *testing.T, s *Store) {
	ctx := t.Context()
	a, b := mustCreate(t, s, "clicka", nil), mustCreate(t, s, "clickb", nil)
	var enqueued int
	s2 := NewStore(s.Store).WithClickJobs(func(ctx context.Context, tx *sql.Tx) error { enqueued++; return nil })
	if _, err := s2.FoldClicks(ctx); err != nil { // start from an empty log
		t.Fatal(err)
	}
	for _, batch := range []map[int64]int64{{a.ID: 3, b.ID: 2}, {a.ID: 1}} {
		if err := s2.AppendClicks(ctx, NewClickBatch(batch, time.Now())); err != nil {
			t.Fatal(err)
		}
	}
	if enqueued != 2 {
		t.Errorf("fold jobs enqueued = %d, want one per batch", enqueued)
	}
	// A batch whose job cannot be enqueued is not written either.
	failing := NewStore(s.Store).WithClickJobs(func(context.Context, *sql.Tx) error { return errors.New("queue full") })
	if err := failing.AppendClicks(ctx, NewClickBatch(map[int64]int64{a.ID: 100}, time.Now())); err == nil {
		t.Fatal("AppendClicks() with a failing enqueue = nil, want the error")
	}

	n, err := s2.FoldClicks(ctx)
	if err != nil || n != 6 {
		t.Fatalf("FoldClicks() = %d, %v; want 6", n, err)
	}
	if n, err := s2.FoldClicks(ctx); err != nil || n != 0 {
		t.Errorf("FoldClicks() again = %d, %v; want 0: nothing counted twice", n, err)
	}
	// A log longer than one fold transaction takes is folded whole.
	if _, err := s.DB().ExecContext(ctx,
		`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)
		 INSERT INTO click_events (link_id, clicks, clicked_at) SELECT $2, 1, $3 FROM n`,
		foldBatch+500, b.ID, time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	if n, err := s2.FoldClicks(ctx); err != nil || n != foldBatch+500 {
		t.Errorf("FoldClicks() of %d rows = %d, %v", foldBatch+500, n, err)
	}
	for code, want := range map[string]int64{"clicka": 4, "clickb": 2 + foldBatch + 500} {
		if l, _ := s.Link(ctx, code); l.Clicks != want {
			t.Errorf("Link(%s).Clicks = %d, want %d", code, l.Clicks, want)
		}
	}
}

// concurrentFolds races two folds over the same log rows: a second
// transaction holds the link's row (on SQLite, the write lock) until both
// folds have started and wait for it, so both saw the same log. Each click
// must still be counted once.
func concurrentFolds(t *testing.T, s *Store, dialect string) {
	ctx := t.Context()
	l := mustCreate(t, s, "foldrace", nil)
	if _, err := s.FoldClicks(ctx); err != nil { // start from an empty log
		t.Fatal(err)
	}
	if err := s.AppendClicks(ctx, NewClickBatch(map[int64]int64{l.ID: 7}, time.Now())); err != nil {
		t.Fatal(err)
	}
	hold, err := s.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = hold.Rollback() }()
	if _, err := hold.ExecContext(ctx, `UPDATE links SET clicks = clicks WHERE id = $1`, l.ID); err != nil {
		t.Fatal(err)
	}
	folded := make(chan int64, 2)
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			n, err := s.FoldClicks(ctx)
			folded <- n
			errs <- err
		}()
	}
	waitForLockWaiters(t, s, dialect, 2)
	if err := hold.Rollback(); err != nil {
		t.Fatal(err)
	}
	var total int64
	for range 2 {
		total += <-folded
		if err := <-errs; err != nil {
			t.Errorf("FoldClicks() racing another = %v", err)
		}
	}
	got, err := s.Link(ctx, "foldrace")
	if err != nil {
		t.Fatal(err)
	}
	if got.Clicks != 7 || total != 7 {
		t.Errorf("after two racing folds of 7 clicks: Link.Clicks = %d, folds reported %d; want 7 and 7", got.Clicks, total)
	}
}

// clickBatches: a batch written twice counts once, and the purge forgets
// the batches written more than ClickBatchLife ago, not later ones.
func clickBatches(t *testing.T, s *Store) {
	ctx, now := t.Context(), time.Now()
	l := mustCreate(t, s, "batched", nil)
	if _, err := s.FoldClicks(ctx); err != nil { // start from an empty log
		t.Fatal(err)
	}
	recent := NewClickBatch(map[int64]int64{l.ID: 4}, now)
	old := NewClickBatch(map[int64]int64{l.ID: 1}, now.Add(-ClickBatchLife-time.Minute))
	for _, b := range []ClickBatch{recent, recent, old} {
		if err := s.AppendClicks(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.FoldClicks(ctx); err != nil || n != 5 {
		t.Fatalf("FoldClicks() after a batch written twice = %d, %v; want 5", n, err)
	}
	if _, err := s.PurgeExpired(ctx, now); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		b    ClickBatch
		want int
	}{{recent, 1}, {old, 0}} {
		var n int
		if err := s.DB().QueryRowContext(ctx, `SELECT count(*) FROM click_batches WHERE id = $1`, c.b.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != c.want {
			t.Errorf("batch of %s kept after the purge: %d rows, want %d", c.b.At.Format(time.RFC3339), n, c.want)
		}
	}
}

func purge(t *testing.T, s *Store) {
	ctx := t.Context()
	now := time.Now()
	past, future := now.Add(-time.Minute), now.Add(time.Hour)
	gone := mustCreate(t, s, "purgeme", &past)
	mustCreate(t, s, "keepme", &future)
	if err := s.AppendClicks(ctx, NewClickBatch(map[int64]int64{gone.ID: 5}, now)); err != nil {
		t.Fatal(err)
	}
	n, err := s.PurgeExpired(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	// Earlier tests on this database left expired links too.
	if n < 1 {
		t.Errorf("PurgeExpired() = %d links; want the expired link at least", n)
	}
	if _, err := s.Link(ctx, "purgeme"); !errors.Is(err, ErrNotFound) {
		t.Errorf("expired link still there: %v", err)
	}
	if _, err := s.Link(ctx, "keepme"); err != nil {
		t.Errorf("unexpired link purged: %v", err)
	}
}

// inUTC returns l with its times in UTC and without monotonic clock
// readings, so that reflect.DeepEqual compares their instants as
// time.Time.Equal does, and still compares every other field.
func inUTC(l Link) Link {
	l.CreatedAt = l.CreatedAt.UTC()
	if l.ExpiresAt != nil {
		e := l.ExpiresAt.UTC()
		l.ExpiresAt = &e
	}
	return l
}

// showLink formats l for a failure message, with its expiry rather than
// the expiry's address.
func showLink(l Link) string {
	expires := "nil"
	if l.ExpiresAt != nil {
		expires = l.ExpiresAt.String()
	}
	return fmt.Sprintf("{ID:%d Code:%q URL:%q CreatedAt:%s ExpiresAt:%s Clicks:%d}", l.ID, l.Code, l.URL, l.CreatedAt, expires, l.Clicks)
}

func createAndGet(t *testing.T, s *Store) {
	ctx := t.Context()
	created := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	expires := created.Add(24 * time.Hour)
	tests := []struct {
		name    string
		in      Link
		wantErr error
	}{
		{"without expiry", Link{Code: "abc", URL: "https://example.com/a", CreatedAt: created}, nil},
		{"with expiry", Link{Code: "xyz", URL: "https://example.com/x", CreatedAt: created, ExpiresAt: &expires}, nil},
		{"code taken", Link{Code: "abc", URL: "https://example.com/other", CreatedAt: created}, ErrCodeTaken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.CreateLink(ctx, tt.in, nil)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("CreateLink(%q) error = %v, want %v", tt.in.Code, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got.ID == 0 {
				t.Errorf("CreateLink(%q).ID = 0, want an ID", tt.in.Code)
			}
			read, err := s.Link(ctx, tt.in.Code)
			if err != nil {
				t.Fatalf("Link(%q) = %v", tt.in.Code, err)
			}
			if !reflect.DeepEqual(inUTC(read), inUTC(got)) {
				t.Errorf("Link(%q) = %s, differs from what CreateLink returned: %s", tt.in.Code, showLink(read), showLink(got))
			}
		})
	}
	if _, err := s.Link(ctx, "missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Link(missing) error = %v, want ErrNotFound", err)
	}
}

// linkCompletion: a link created under a claimed key stores its response
// with it; a create that fails leaves the key in flight, not completed.
func linkCompletion(t *testing.T, s *Store) {
	ctx, now := t.Context(), time.Now()
	claim := idempotency.Claim{Scope: "token:a", Key: "link1", Hash: []byte("h"), Now: now, TTL: time.Hour, StaleAfter: time.Minute}
	if _, err := s.ClaimIdempotencyKey(ctx, claim); err != nil {
		t.Fatal(err)
	}
	resp := idempotency.Response{Status: 201, ContentType: "application/json", Location: "/v1/links/idem1", Body: []byte(`{"code":"idem1"}`)}
	done := &idempotency.Completion{Scope: "token:a", Key: "link1", Response: resp}
	if _, err := s.CreateLink(ctx, Link{Code: "idem1", URL: "https://example.com", CreatedAt: now}, done); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ClaimIdempotencyKey(ctx, claim); err != nil || got == nil || got.Location != resp.Location {
		t.Errorf("claim after the create = %+v, %v; want the stored response", got, err)
	}
	claim.Key, done.Key = "link2", "link2"
	if _, err := s.ClaimIdempotencyKey(ctx, claim); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateLink(ctx, Link{Code: "idem1", URL: "https://example.com", CreatedAt: now}, done); !errors.Is(err, ErrCodeTaken) {
		t.Fatalf("CreateLink(taken code) = %v, want ErrCodeTaken", err)
	}
	if _, err := s.ClaimIdempotencyKey(ctx, claim); !errors.Is(err, idempotency.ErrKeyInFlight) {
		t.Errorf("claim after a failed create = %v, want ErrKeyInFlight: the failed write completed nothing", err)
	}
}

// waitForLockWaiters returns once n sessions wait for a lock. On Postgres
// it asks the server; SQLite does not tell, so it gives them a moment.
func waitForLockWaiters(t *testing.T, s *Store, dialect string, n int) {
	t.Helper()
	if dialect != migrations.Postgres {
		time.Sleep(200 * time.Millisecond)
		return
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var waiting int
		if err := s.DB().QueryRowContext(t.Context(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions wait for a lock after 10s, want %d", waiting, n)
		}
	}
}
