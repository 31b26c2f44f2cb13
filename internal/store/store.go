// Package store is the storage the service's domain uses, written once in
// SQL that both supported databases run: Postgres in production and the
// embedded SQLite file when DATABASE_URL is unset. One contract test suite
// runs against both.
//
// Its errors carry kinds (package kind): ErrNotFound, ErrConflict and
// ErrUnavailable.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"

	"github.com/dozen-go/dozen/internal/kind"
	"github.com/dozen-go/dozen/internal/postgres"
	"github.com/dozen-go/dozen/internal/sqlite"
)

// Sentinel errors, tested with errors.Is.
var (
	// ErrNotFound means no row matched.
	ErrNotFound = kind.New(kind.NotFound, "not found")
	// ErrConflict means a row with the same unique key exists.
	ErrConflict = kind.New(kind.Conflict, "already exists")
	// ErrUnavailable means the database could not be reached or dropped
	// the connection: the request may succeed later.
	ErrUnavailable = kind.New(kind.Unavailable, "a backing service is unavailable; try again shortly")
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

// Classify wraps err with op, what was being done, adding the sentinel
// that tells the caller what kind of failure it was: ErrNotFound for no
// row, ErrConflict for a unique key taken, ErrUnavailable for a database
// out of reach. A nil err stays nil. InTx passes every error through it;
// a building block for a feature's reads, which pass theirs.
func Classify(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	case postgres.IsUniqueViolation(err) || sqlite.IsUniqueViolation(err):
		return fmt.Errorf("%s: %w", op, ErrConflict)
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: %w", op, err)
	case postgres.IsUnavailable(err) || sqlite.IsUnavailable(err) || errors.Is(err, driver.ErrBadConn):
		return fmt.Errorf("%s: %w: %w", op, ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// DB returns the database the store runs on. A building block for a
// feature's own queries: a read runs on it and passes its error through
// Classify; a write goes through InTx. $1 placeholders work on both
// databases.
func (s *Store) DB() *sql.DB { return s.db }

// InTx runs fn in a transaction, committing when it returns nil; every
// write of the store goes through it. Its errors name op and carry a kind:
// ErrNotFound, ErrConflict, ErrUnavailable, or the error fn returned,
// which passes through as it is.
func (s *Store) InTx(ctx context.Context, op string, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Classify(op, err)
	}
	defer func() { _ = tx.Rollback() }() // after Commit, a no-op
	if err := fn(tx); err != nil {
		return Classify(op, err)
	}
	if err := tx.Commit(); err != nil {
		return Classify(op, err)
	}
	return nil
}
