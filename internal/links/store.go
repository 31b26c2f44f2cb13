package links

// The link shortener's queries, in SQL that both databases run, on the
// service's store (package store): its links, their click log, and the
// idempotency keys of their creation.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dozen-go/dozen/internal/idempotency"
	"github.com/dozen-go/dozen/internal/store"
)

// Store reads and writes the links and their click log. It is the
// service's store, whose idempotency keys (ClaimIdempotencyKey,
// ReleaseIdempotencyKey) the create handler uses as they are.
type Store struct {
	*store.Store
	enqueueFold func(context.Context, *sql.Tx) error
}

// NewStore returns the link queries on st.
func NewStore(st *store.Store) *Store {
	return &Store{Store: st}
}

// WithClickJobs returns a copy of the store whose AppendClicks enqueues,
// with enqueue and in the same transaction, the job that folds the click
// log. Without it, clicks are appended and no job is enqueued.
func (s *Store) WithClickJobs(enqueue func(context.Context, *sql.Tx) error) *Store {
	c := *s
	c.enqueueFold = enqueue
	return &c
}

// CreateLink stores a new link and returns it with its ID. A taken code is
// ErrCodeTaken. When done is not nil, the response it holds is
// stored under its idempotency key in the same transaction.
func (s *Store) CreateLink(ctx context.Context, l Link, done *idempotency.Completion) (Link, error) {
	l.CreatedAt = l.CreatedAt.UTC().Truncate(time.Microsecond)
	var expires sql.NullTime
	if l.ExpiresAt != nil {
		expires = sql.NullTime{Time: l.ExpiresAt.UTC().Truncate(time.Microsecond), Valid: true}
		l.ExpiresAt = &expires.Time
	}
	err := s.InTx(ctx, "create link", func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx,
			`INSERT INTO links (code, url, created_at, expires_at) VALUES ($1, $2, $3, $4) RETURNING id`,
			l.Code, l.URL, l.CreatedAt, expires).Scan(&l.ID)
		if err != nil || done == nil {
			return err
		}
		return store.CompleteIdempotencyKey(ctx, tx, done)
	})
	if errors.Is(err, store.ErrConflict) {
		return Link{}, fmt.Errorf("create link %q: %w", l.Code, ErrCodeTaken)
	}
	if err != nil {
		return Link{}, err
	}
	return l, nil
}

const linkColumns = `id, code, url, created_at, expires_at, clicks`

func scanLink(row interface{ Scan(...any) error }) (Link, error) {
	var l Link
	var expires sql.NullTime
	if err := row.Scan(&l.ID, &l.Code, &l.URL, &l.CreatedAt, &expires, &l.Clicks); err != nil {
		return Link{}, err
	}
	l.CreatedAt = l.CreatedAt.UTC()
	if expires.Valid {
		t := expires.Time.UTC()
		l.ExpiresAt = &t
	}
	return l, nil
}

// Link returns the link with the code, or ErrNotFound.
func (s *Store) Link(ctx context.Context, code string) (Link, error) {
	l, err := scanLink(s.DB().QueryRowContext(ctx, `SELECT `+linkColumns+` FROM links WHERE code = $1`, code))
	if errors.Is(err, sql.ErrNoRows) {
		return Link{}, fmt.Errorf("get link %q: %w", code, ErrNotFound)
	}
	if err != nil {
		return Link{}, store.Classify("get link", err)
	}
	return l, nil
}

// ListLinks returns up to limit links with ids above afterID, by id.
func (s *Store) ListLinks(ctx context.Context, afterID int64, limit int) ([]Link, error) {
	rows, err := s.DB().QueryContext(ctx,
		`SELECT `+linkColumns+` FROM links WHERE id > $1 ORDER BY id LIMIT $2`, afterID, limit)
	if err != nil {
		return nil, store.Classify("list links", err)
	}
	defer rows.Close()
	var out []Link
	for rows.Next() {
		l, err := scanLink(rows)
		if err != nil {
			return nil, store.Classify("list links", err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, store.Classify("list links", err)
	}
	return out, nil
}

// DeleteLink deletes the link with the code and its unfolded clicks, or
// returns ErrNotFound.
func (s *Store) DeleteLink(ctx context.Context, code string) error {
	return s.InTx(ctx, "delete link", func(tx *sql.Tx) error {
		// Clicks first: SQLite does not enforce the foreign key's cascade
		// unless asked per connection, so the store does not rely on it.
		if _, err := tx.ExecContext(ctx,
			`DELETE FROM click_events WHERE link_id IN (SELECT id FROM links WHERE code = $1)`, code); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM links WHERE code = $1`, code)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
}

// AppendClicks records b's ID, appends its clicks to the click log and
// enqueues the job that folds them, in one transaction. A batch whose ID
// is recorded already was written by an earlier call whose reply was lost:
// it is skipped, and that is a success, so each click counts once.
func (s *Store) AppendClicks(ctx context.Context, b ClickBatch) error {
	at := b.At.UTC().Truncate(time.Microsecond)
	return s.InTx(ctx, "append clicks", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			`INSERT INTO click_batches (id, created_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`, b.ID, at)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err // nil when written before
		}
		for id, n := range b.Counts {
			// A link deleted since the click was counted has no row to
			// refer to; its clicks are dropped with it.
			if _, err := tx.ExecContext(ctx,
				`INSERT INTO click_events (link_id, clicks, clicked_at)
				 SELECT id, $1, $2 FROM links WHERE id = $3`, n, at, id); err != nil {
				return err
			}
		}
		if s.enqueueFold == nil {
			return nil
		}
		return s.enqueueFold(ctx, tx)
	})
}

// foldBatch is how many log rows one fold transaction takes at most. It
// bounds the transaction and its UPDATE's parameters (two per link).
const foldBatch = 1000

// FoldClicks adds the click log, as it stands when the call begins, to the
// links' counts and deletes what it added, in transactions of up to
// foldBatch rows. It returns the clicks it added.
//
// Each transaction adds exactly the rows its own DELETE removed and
// returned. A row that another fold deletes first is not returned: Postgres
// skips it once that fold commits, and SQLite runs one writer at a time. So
// folds running at once, in any number of processes, and retried ones,
// count each click once.
func (s *Store) FoldClicks(ctx context.Context) (int64, error) {
	var last sql.NullInt64
	if err := s.DB().QueryRowContext(ctx, `SELECT max(id) FROM click_events`).Scan(&last); err != nil {
		return 0, store.Classify("fold clicks", err)
	}
	if !last.Valid {
		return 0, nil
	}
	var total int64
	for {
		clicks, rows, err := s.foldBatch(ctx, last.Int64)
		total += clicks
		// A short batch means the log up to last is empty, or that
		// another fold is taking the rest.
		if err != nil || rows < foldBatch {
			return total, err
		}
	}
}

// foldBatch folds up to foldBatch log rows with ids up to last, in one
// transaction, and returns the clicks added and the rows deleted.
func (s *Store) foldBatch(ctx context.Context, last int64) (clicks int64, rows int, err error) {
	err = s.InTx(ctx, "fold clicks", func(tx *sql.Tx) error {
		clicks, rows = 0, 0
		res, err := tx.QueryContext(ctx,
			`DELETE FROM click_events WHERE id IN (
			     SELECT id FROM click_events WHERE id <= $1 ORDER BY id LIMIT $2)
			 RETURNING link_id, clicks`, last, foldBatch)
		if err != nil {
			return err
		}
		defer res.Close()
		perLink := map[int64]int64{}
		for res.Next() {
			var id, n int64
			if err := res.Scan(&id, &n); err != nil {
				return err
			}
			perLink[id] += n
			clicks += n
			rows++
		}
		if err := res.Err(); err != nil {
			return err
		}
		if len(perLink) == 0 {
			return nil
		}
		// One UPDATE for the batch. clicks = clicks + n adds to the row as
		// committed when the update takes it, never to an older copy.
		var values strings.Builder
		args := make([]any, 0, 2*len(perLink))
		for id, n := range perLink {
			if len(args) > 0 {
				values.WriteString(", ")
			}
			fmt.Fprintf(&values, "(CAST($%d AS BIGINT), CAST($%d AS BIGINT))", len(args)+1, len(args)+2)
			args = append(args, id, n)
		}
		_, err = tx.ExecContext(ctx,
			`WITH folded (link_id, clicks) AS (VALUES `+values.String()+`)
			 UPDATE links SET clicks = clicks + (SELECT f.clicks FROM folded f WHERE f.link_id = links.id)
			 WHERE id IN (SELECT link_id FROM folded)`, args...)
		return err
	})
	if err != nil {
		return 0, 0, err
	}
	return clicks, rows, nil
}

// PurgeExpired deletes the links that expired before now, with their
// unfolded clicks, and the IDs of click batches written more than
// ClickBatchLife before now. It returns how many links it deleted.
func (s *Store) PurgeExpired(ctx context.Context, now time.Time) (purged int64, err error) {
	now = now.UTC()
	err = s.InTx(ctx, "purge expired", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx,
			`DELETE FROM click_events WHERE link_id IN (SELECT id FROM links WHERE expires_at <= $1)`, now); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM links WHERE expires_at <= $1`, now)
		if err != nil {
			return err
		}
		purged, _ = res.RowsAffected()
		_, err = tx.ExecContext(ctx,
			`DELETE FROM click_batches WHERE created_at <= $1`, now.Add(-ClickBatchLife))
		return err
	})
	return purged, err
}
