// Package store is the storage the service's domain uses, written once in
// SQL that both supported databases run: Postgres in production and the
// embedded SQLite file when DATABASE_URL is unset. One contract test suite
// runs against both.
//
// Errors the HTTP layer maps to a status are sentinels: ErrNotFound,
// ErrConflict and ErrUnavailable.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/dozen-go/dozen/internal/postgres"
	"github.com/dozen-go/dozen/internal/sqlite"
)

// Sentinel errors, tested with errors.Is.
var (
	// ErrNotFound means no row matched.
	ErrNotFound = errors.New("not found")
	// ErrConflict means a row with the same unique key exists.
	ErrConflict = errors.New("already exists")
	// ErrUnavailable means the database could not be reached or dropped
	// the connection: the request may succeed later. HTTP answers 503.
	ErrUnavailable = errors.New("database unavailable")
)

// Store reads and writes the domain's tables.
type Store struct {
	db *sql.DB
}

// New returns a Store over db, an open Postgres or SQLite database whose
// schema is migrated. The caller closes db.
func New(db *sql.DB) *Store {
	return &Store{db: db}
}

// Ping checks that the database answers, for readiness.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return classify("ping", err)
	}
	return nil
}

// Link is a short code and the URL it stands for.
type Link struct {
	ID        int64
	Code      string
	URL       string
	CreatedAt time.Time
	ExpiresAt *time.Time // nil: never expires
	Clicks    int64
}

// CreateLink stores a new link and returns it with its ID. A code already
// taken is ErrConflict.
func (s *Store) CreateLink(ctx context.Context, l Link) (Link, error) {
	if l.CreatedAt.IsZero() {
		l.CreatedAt = time.Now()
	}
	l.CreatedAt = l.CreatedAt.UTC().Truncate(time.Microsecond)
	var expires sql.NullTime
	if l.ExpiresAt != nil {
		expires = sql.NullTime{Time: l.ExpiresAt.UTC().Truncate(time.Microsecond), Valid: true}
		l.ExpiresAt = &expires.Time
	}
	err := s.db.QueryRowContext(ctx,
		`INSERT INTO links (code, url, created_at, expires_at) VALUES ($1, $2, $3, $4) RETURNING id`,
		l.Code, l.URL, l.CreatedAt, expires).Scan(&l.ID)
	if err != nil {
		return Link{}, classify("create link", err)
	}
	return l, nil
}

// LinkByCode returns the link with the code, or ErrNotFound.
func (s *Store) LinkByCode(ctx context.Context, code string) (Link, error) {
	var l Link
	var expires sql.NullTime
	err := s.db.QueryRowContext(ctx,
		`SELECT id, code, url, created_at, expires_at, clicks FROM links WHERE code = $1`, code).
		Scan(&l.ID, &l.Code, &l.URL, &l.CreatedAt, &expires, &l.Clicks)
	if err != nil {
		return Link{}, classify("get link", err)
	}
	l.CreatedAt = l.CreatedAt.UTC()
	if expires.Valid {
		t := expires.Time.UTC()
		l.ExpiresAt = &t
	}
	return l, nil
}

// classify wraps err with what was being done, adding the sentinel that
// tells the caller what kind of failure it was.
func classify(op string, err error) error {
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	case postgres.IsUniqueViolation(err) || sqlite.IsUniqueViolation(err):
		return fmt.Errorf("%s: %w", op, ErrConflict)
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: %w", op, err)
	case postgres.IsUnavailable(err) || sqlite.IsUnavailable(err):
		return fmt.Errorf("%s: %w: %w", op, ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}
