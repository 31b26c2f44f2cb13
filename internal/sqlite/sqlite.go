// Package sqlite attaches the embedded SQLite database the service uses
// when no DATABASE_URL is set, so that it runs with nothing installed. It
// is pure Go (modernc.org/sqlite, no cgo). It is for trying the service
// out and for tests: the file lives on one machine, so replicas cannot
// share it, and most platforms' file systems do not outlive a restart.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/XSAM/otelsql"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// FileName is the database file's name inside the data directory.
const FileName = "service.db"

// Open opens, creating if needed, the database file in dir. It uses
// write-ahead logging, so readers do not block the writer, and waits up
// to five seconds for a lock rather than failing at once. With tracing
// options, queries are traced as they say.
func Open(ctx context.Context, dir string, tracing ...otelsql.Option) (*sql.DB, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("open sqlite: create DATA_DIR: %w", err)
	}
	path := filepath.Join(dir, FileName)
	// _txlock=immediate takes the write lock when a transaction begins, so
	// two writers queue on busy_timeout instead of one failing on upgrade.
	dsn := uri(path) + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	var db *sql.DB
	var err error
	if tracing == nil {
		db, err = sql.Open("sqlite", dsn)
	} else {
		db, err = otelsql.Open("sqlite", dsn, tracing...)
	}
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	// Turning a new file to WAL takes a lock that SQLite may refuse at
	// once, without the busy timeout, while another process starting at
	// the same moment does the same: try again until the timeout has
	// passed.
	deadline := time.Now().Add(5 * time.Second)
	for {
		err = db.PingContext(ctx)
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return db, nil
}

// isBusy reports whether err is SQLite's SQLITE_BUSY, in any of its
// extended forms.
func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

// uri returns the file: URI of the file at path. The characters that a
// URI gives a meaning to are escaped: a "#" or "?" in a directory's name
// would otherwise cut the path short there.
func uri(path string) string {
	return "file:" + uriEscaper.Replace(path)
}

var uriEscaper = strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23")

// IsUniqueViolation reports whether err is a unique or primary key
// constraint violation.
func IsUniqueViolation(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// IsUnavailable reports whether err means the database could not be used
// right now, rather than that the query was wrong: it stayed locked past
// the busy timeout, or the file cannot be opened or written.
func IsUnavailable(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff { // the primary result code
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR,
		sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY:
		return true
	}
	return false
}

// ErrLockWait means Lock gave up: another connection held the lock for
// the whole wait.
var ErrLockWait = errors.New("sqlite: the lock is held by another process")

// File returns the path of db's main database file.
func File(ctx context.Context, db *sql.DB) (string, error) {
	var path string
	if err := db.QueryRowContext(ctx, "SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&path); err != nil {
		return "", fmt.Errorf("sqlite: find the database file: %w", err)
	}
	if path == "" {
		return "", errors.New("sqlite: the database has no file")
	}
	return path, nil
}

// Lock takes the lock of the file at path, an SQLite file used for
// nothing but this lock, waiting up to wait while another connection,
// of this process or another, holds it; a process that ends, however it
// ends, lets go of its lock. It is the write lock of an open
// transaction (BEGIN IMMEDIATE), so it works wherever SQLite does. The
// returned function lets go of it.
func Lock(ctx context.Context, path string, wait time.Duration) (unlock func() error, err error) {
	dsn := fmt.Sprintf("%s?_pragma=busy_timeout(%d)&_txlock=immediate", uri(path), wait.Milliseconds())
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: lock: %w", err)
	}
	db.SetMaxOpenConns(1)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		db.Close()
		if isBusy(err) {
			return nil, ErrLockWait
		}
		return nil, fmt.Errorf("sqlite: lock %s: %w", path, err)
	}
	return func() error { return errors.Join(tx.Rollback(), db.Close()) }, nil
}
