package schema

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"github.com/golang-migrate/migrate/v4/database"

	"github.com/dozen-go/dozen/internal/sqlite"
	"github.com/dozen-go/dozen/migrations"
)

// The run lock is held around every change a Migrator makes: the
// service's migrations and River's, as one run. golang-migrate's own lock
// does not cover River's migrator, and on SQLite it holds only within one
// process; the run lock holds across processes on both:
//
//   - on Postgres, a session advisory lock, which Postgres lets go of when
//     the session ends, however the migrator ends;
//   - on SQLite, the write lock of a file beside the database
//     (service.db.migrate-lock), which the operating system lets go of
//     when the process ends.
//
// A wait for it ends after the Migrator's lock wait.

// lockSuffix names the SQLite lock file after the database file.
const lockSuffix = ".migrate-lock"

// errLockWait is a wait for the run lock that ran out.
var errLockWait = errors.New("waited too long for the migration lock")

// lock takes the run lock, waiting up to the lock wait, and returns the
// function that lets go of it. A wait that runs out is errLockWait.
func (m *Migrator) lock(ctx context.Context) (unlock func(), err error) {
	if m.dialect == migrations.SQLite {
		return lockSQLite(ctx, m.db, m.lockWait)
	}
	conn, err := m.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("take the migration lock: %w", err)
	}
	id, err := lockID(ctx, conn)
	if err == nil {
		// The session's lock_timeout (see postgres.OpenMigrationDB) bounds
		// the wait.
		_, err = conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", id)
	}
	if err != nil {
		conn.Close()
		if isLockTimeout(err) {
			return nil, errLockWait
		}
		return nil, fmt.Errorf("take the migration lock: %w", err)
	}
	return func() { unlockPostgres(conn, id) }, nil
}

// unlockPostgres lets go of the lock id held by conn and returns conn to
// its pool, or discards it if the lock could not be let go of.
func unlockPostgres(conn *sql.Conn, id string) {
	if _, err := conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock($1)", id); err != nil {
		// Never hand back a pooled session that holds the lock.
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	conn.Close()
}

// lockSQLite takes the lock of the file beside db's file.
func lockSQLite(ctx context.Context, db *sql.DB, wait time.Duration) (func(), error) {
	path, err := sqlite.File(ctx, db)
	if err != nil {
		return nil, err
	}
	unlock, err := sqlite.Lock(ctx, path+lockSuffix, wait)
	if errors.Is(err, sqlite.ErrLockWait) {
		return nil, errLockWait
	}
	if err != nil {
		return nil, err
	}
	return func() { _ = unlock() }, nil // a lock file that fails to close is let go of at exit
}

// lockID is the advisory lock id of the run lock in conn's database and
// schema: another id than golang-migrate's.
func lockID(ctx context.Context, conn *sql.Conn) (string, error) {
	var name, schemaName string
	if err := conn.QueryRowContext(ctx, "SELECT current_database(), current_schema()").Scan(&name, &schemaName); err != nil {
		return "", fmt.Errorf("migration lock: %w", err)
	}
	return runLockID(name, schemaName)
}

// runLockID is the advisory lock id of the run lock in database name,
// schema schemaName.
func runLockID(name, schemaName string) (string, error) {
	return database.GenerateAdvisoryLockId(name, schemaName, table, "river_migration")
}

// locked reports whether another migrator holds the run lock, by trying
// to take it without waiting.
func locked(ctx context.Context, db *sql.DB, dialect string) (bool, error) {
	if dialect == migrations.SQLite {
		unlock, err := lockSQLite(ctx, db, 0)
		if errors.Is(err, errLockWait) {
			return true, nil
		}
		if err != nil {
			return false, fmt.Errorf("check migration lock: %w", err)
		}
		unlock()
		return false, nil
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("check migration lock: %w", err)
	}
	id, err := lockID(ctx, conn)
	if err != nil {
		conn.Close()
		return false, err
	}
	var got bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", id).Scan(&got); err != nil {
		conn.Close()
		return false, fmt.Errorf("check migration lock: %w", err)
	}
	if got {
		unlockPostgres(conn, id)
	} else {
		conn.Close()
	}
	return !got, nil
}
