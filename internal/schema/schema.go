// Package schema applies the migrations in the migrations directory to a
// database with golang-migrate, and tells the web process whether the
// database's schema is one it can serve.
//
// golang-migrate records one row in schema_migrations: the version last
// applied and a dirty flag, set while a migration runs and left set when
// one fails. Nothing here clears that flag by itself: an operator reads
// the failure and runs admin migrate force, as RecoverySteps says.
package schema

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/golang-migrate/migrate/v4"
	"github.com/golang-migrate/migrate/v4/database"
	pgxmigrate "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	sqlitemigrate "github.com/golang-migrate/migrate/v4/database/sqlite"
	"github.com/golang-migrate/migrate/v4/source/iofs"

	"github.com/dozen-go/dozen/internal/postgres"
	"github.com/dozen-go/dozen/migrations"
)

// Errors a caller tells apart with errors.Is.
var (
	// ErrLocked means another migrator held the migration lock for the
	// whole wait and the schema is still not up to date.
	ErrLocked = errors.New("another migration is running")
	// ErrDirty means a migration did not finish: it failed, or its
	// migrator died after its commit; see RecoverySteps.
	ErrDirty = errors.New("the database is dirty: a migration did not finish")
	// ErrBehind means the schema is older than this build needs.
	ErrBehind = errors.New("the database schema is older than this build needs")
)

// table is where golang-migrate records the version.
const table = "schema_migrations"

// Migrator applies one dialect's migrations to one database. It owns the
// *sql.DB it was given and closes it in Close.
type Migrator struct {
	db       *sql.DB
	dialect  string
	src      fs.FS
	list     []migrations.Migration
	lockWait time.Duration
	log      *slog.Logger

	m *migrate.Migrate // opened on first use; see instance
}

// New returns a Migrator of db, a database of the given dialect
// (migrations.Postgres or migrations.SQLite), applying the files in src.
// lockWait is how long an operation waits for another migrator; on
// Postgres the connection must enforce it too, as
// postgres.OpenMigrationDB's does. log receives golang-migrate's progress.
func New(db *sql.DB, dialect string, src fs.FS, lockWait time.Duration, log *slog.Logger) (*Migrator, error) {
	list, err := migrations.List(src)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	if dialect != migrations.Postgres && dialect != migrations.SQLite {
		return nil, fmt.Errorf("no migration driver for dialect %q", dialect)
	}
	return &Migrator{db: db, dialect: dialect, src: src, list: list, lockWait: lockWait, log: log}, nil
}

// instance opens golang-migrate on first use. Opening takes the migration
// lock to create schema_migrations, so it can fail with a lock timeout;
// that failure is not kept, and the next call tries again. (The Postgres
// driver then keeps the session it took from db until db is closed: a
// cost paid only by a migrator that lost the race, which is a one-off
// process about to exit.)
func (m *Migrator) instance() (*migrate.Migrate, error) {
	if m.m != nil {
		return m.m, nil
	}
	src, err := iofs.New(m.src, ".")
	if err != nil {
		return nil, err
	}
	var drv database.Driver
	switch m.dialect {
	case migrations.Postgres:
		drv, err = pgxmigrate.WithInstance(m.db, &pgxmigrate.Config{MigrationsTable: table})
	case migrations.SQLite:
		drv, err = sqlitemigrate.WithInstance(m.db, &sqlitemigrate.Config{MigrationsTable: table})
	}
	if err != nil {
		return nil, err
	}
	mm, err := migrate.NewWithInstance("iofs", src, m.dialect, drv)
	if err != nil {
		return nil, err
	}
	// The server-side lock_timeout ends a wait first; this client-side
	// bound only backs it up.
	mm.LockTimeout = m.lockWait + 10*time.Second
	mm.Log = &logger{log: m.log}
	m.m = mm
	return mm, nil
}

// Result is what Up did.
type Result struct {
	From, To uint // versions before and after
	// Applied counts the migrations from From to To when this call ran
	// any. It is 0 when there was nothing to do, including when a
	// concurrent migrator did the work.
	Applied int
}

// Up applies every pending migration. When another migrator holds the
// lock for longer than the wait, Up looks at the version again: if that
// migrator brought the schema up to date, there is nothing to do and Up
// reports no change; otherwise it fails with ErrLocked.
func (m *Migrator) Up(ctx context.Context) (Result, error) {
	// Not refused here when dirty: while another migrator runs, the flag
	// is set too. golang-migrate checks it once it holds the lock.
	before, err := m.Status(ctx)
	if err != nil {
		return Result{}, err
	}
	mm, err := m.instance()
	if err == nil {
		err = mm.Up()
	}
	ran := err == nil
	if errors.Is(err, migrate.ErrNoChange) {
		err = nil
	}
	if isLockTimeout(err) {
		return m.afterLockTimeout(ctx, before.Version)
	}
	after, serr := m.Status(ctx)
	res := Result{From: before.Version, To: after.Version}
	if ran {
		res.Applied = m.between(before.Version, after.Version)
	}
	if err != nil {
		if serr == nil && after.Dirty {
			return res, fmt.Errorf("migrate up: %w\n%w", err, after.DirtyError())
		}
		return res, fmt.Errorf("migrate up: %w", err)
	}
	if serr != nil {
		return Result{}, serr
	}
	return res, nil
}

func (m *Migrator) afterLockTimeout(ctx context.Context, from uint) (Result, error) {
	s, err := m.Status(ctx)
	if err != nil {
		return Result{}, err
	}
	if !s.Dirty && s.Version >= s.Latest {
		return Result{From: from, To: s.Version}, nil
	}
	return Result{From: from, To: s.Version}, fmt.Errorf("migrate up: %w: gave up after waiting %s for its lock (MIGRATION_LOCK_TIMEOUT); try again when it ends", ErrLocked, m.lockWait)
}

// isLockTimeout reports whether err is a wait for the migration lock that
// ran out, on the server (lock_timeout) or in golang-migrate.
func isLockTimeout(err error) bool {
	if err == nil {
		return false
	}
	// golang-migrate's database.Error does not unwrap; look inside it.
	var de database.Error
	var dp *database.Error
	switch {
	case errors.As(err, &de):
		err = de.OrigErr
	case errors.As(err, &dp):
		err = dp.OrigErr
	}
	return postgres.IsLockTimeout(err) || errors.Is(err, migrate.ErrLockTimeout) || errors.Is(err, database.ErrLocked)
}

// Down rolls back the last n applied migrations. It refuses, changing
// nothing, an n larger than the number applied: golang-migrate would roll
// back every migration before finding it short.
func (m *Migrator) Down(ctx context.Context, n int) error {
	if n < 1 {
		return fmt.Errorf("migrate down: the number of migrations must be at least 1")
	}
	s, err := m.Status(ctx)
	if err != nil {
		return err
	}
	if s.Dirty && !s.Running {
		return s.DirtyError()
	}
	if applied := len(m.list) - len(s.Pending); n > applied {
		return fmt.Errorf("migrate down: asked to roll back %d migrations, but only %d are applied (the schema is at version %d); nothing was rolled back", n, applied, s.Version)
	}
	mm, err := m.instance()
	if err == nil {
		err = mm.Steps(-n)
	}
	if isLockTimeout(err) {
		return fmt.Errorf("migrate down: %w", ErrLocked)
	}
	if err != nil {
		return fmt.Errorf("migrate down: %w", err)
	}
	return nil
}

// Force records version v as applied and clears the dirty flag, without
// running any migration. It is the manual recovery step after a failed
// migration; v = -1 records that nothing is applied.
func (m *Migrator) Force(ctx context.Context, v int) error {
	if v < -1 {
		return fmt.Errorf("migrate force: version must be -1 or more")
	}
	if v > 0 && !m.known(uint(v)) {
		return fmt.Errorf("migrate force: no migration has version %d", v)
	}
	mm, err := m.instance()
	if err == nil {
		err = mm.Force(v)
	}
	if err != nil {
		return fmt.Errorf("migrate force: %w", err)
	}
	return nil
}

// between counts the migrations above version from, up to version to:
// those an Up from one to the other applied.
func (m *Migrator) between(from, to uint) int {
	n := 0
	for _, mi := range m.list {
		if mi.Version > from && mi.Version <= to {
			n++
		}
	}
	return n
}

func (m *Migrator) known(v uint) bool {
	for _, mi := range m.list {
		if mi.Version == v {
			return true
		}
	}
	return false
}

// Status reads the database's schema version without taking the lock.
func (m *Migrator) Status(ctx context.Context) (Status, error) {
	return readStatus(ctx, m.db, m.dialect, m.list)
}

// readStatus compares db's schema version with list, the migrations of
// its dialect, without taking the lock.
func readStatus(ctx context.Context, db *sql.DB, dialect string, list []migrations.Migration) (Status, error) {
	v, dirty, err := Version(ctx, db, dialect)
	if err != nil {
		return Status{}, err
	}
	s := Status{Version: v, Dirty: dirty, list: list}
	if dirty {
		if s.Running, err = migrationRunning(ctx, db, dialect); err != nil {
			return Status{}, err
		}
	}
	if len(list) > 0 {
		s.Latest = list[len(list)-1].Version
	}
	for _, mi := range list {
		if mi.Version > v {
			s.Pending = append(s.Pending, mi)
		}
	}
	return s, nil
}

// Close closes golang-migrate and the database.
func (m *Migrator) Close() error {
	if m.m == nil {
		return m.db.Close()
	}
	srcErr, dbErr := m.m.Close() // closes m.db too
	return errors.Join(srcErr, dbErr)
}

// Status is a database's schema version compared with the migrations.
type Status struct {
	Version uint // 0 when no migration has been applied
	// Dirty is set while a migration runs, and stays set if it fails.
	Dirty bool
	// Running tells the two apart: another session holds the migration
	// lock. Only known on Postgres; SQLite's lock is per process.
	Running bool
	Latest  uint // the highest version among the migrations
	Pending []migrations.Migration

	list []migrations.Migration
}

// DirtyError returns ErrDirty with the recovery steps, or ErrLocked when
// the dirty flag belongs to a migration still running.
func (s Status) DirtyError() error {
	if s.Running {
		return fmt.Errorf("%w: migration %d is being applied; wait for it to finish", ErrLocked, s.Version)
	}
	return fmt.Errorf("%w at version %d\n%s", ErrDirty, s.Version, RecoverySteps(s.Version, s.previous()))
}

// previous is the version applied before s.Version, or -1 for none.
func (s Status) previous() int {
	prev := -1
	for _, mi := range s.list {
		if mi.Version < s.Version {
			prev = int(mi.Version)
		}
	}
	return prev
}

// RecoverySteps tells an operator how to recover from a migration to
// version v that left the database dirty, prev being the version before
// it. Each migration runs in one transaction, so it either changed nothing
// (it failed) or applied fully (the migrator died after its commit, before
// clearing the flag); the steps say how to tell, and what to force in each
// case.
func RecoverySteps(v uint, prev int) string {
	return fmt.Sprintf(`To recover, first tell which case this is. Each migration runs in one
transaction, so migration %06d either changed nothing or applied fully:
  - "admin migrate up" failed with an SQL error: it changed nothing;
  - the migrator was killed or lost its connection: it may have committed.
    Look for what its up file creates or changes (a table, a column, an
    index); present means it applied fully.
If it changed nothing: fix it if it failed, record the version before it,
and apply it again:
  admin migrate force %d
  admin migrate up
If it applied fully: record it as applied, then apply any later ones:
  admin migrate force %d
  admin migrate up
A statement that cannot run in a transaction (CREATE INDEX CONCURRENTLY)
can leave part of a migration behind: undo that part by hand, then take
the first path. Nothing forces a version automatically.`, v, prev, v)
}

// Version reads the version recorded in db, and whether it is dirty,
// without taking the migration lock. A database never migrated is at 0.
func Version(ctx context.Context, db *sql.DB, dialect string) (version uint, dirty bool, err error) {
	exists := "SELECT to_regclass('" + table + "') IS NOT NULL"
	if dialect == migrations.SQLite {
		exists = "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = '" + table + "'"
	}
	var ok bool
	if err := db.QueryRowContext(ctx, exists).Scan(&ok); err != nil {
		return 0, false, fmt.Errorf("read schema version: %w", err)
	}
	if !ok {
		return 0, false, nil
	}
	var v int64
	err = db.QueryRowContext(ctx, "SELECT version, dirty FROM "+table+" LIMIT 1").Scan(&v, &dirty)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, false, nil
	case err != nil:
		return 0, false, fmt.Errorf("read schema version: %w", err)
	}
	return uint(max(v, 0)), dirty, nil
}

// Check tells the web process whether it can serve db's schema: an older
// one than the migrations in src, or a dirty one, is an error saying what
// the operator must do; a newer one is accepted, so that during a rolling
// deploy the previous release keeps serving after the release step ran.
func Check(ctx context.Context, db *sql.DB, dialect string, src fs.FS) (Status, error) {
	list, err := migrations.List(src)
	if err != nil {
		return Status{}, fmt.Errorf("migrations: %w", err)
	}
	s, err := readStatus(ctx, db, dialect, list)
	switch {
	case err != nil:
		return Status{}, err
	case s.Dirty:
		return s, s.DirtyError()
	case s.Version < s.Latest:
		return s, fmt.Errorf("%w: it is at version %d, this build needs %d; run \"admin migrate up\" (the release step) first", ErrBehind, s.Version, s.Latest)
	}
	return s, nil
}

// migrationRunning reports whether a session holds golang-migrate's
// advisory lock on db, by trying to take it without waiting.
func migrationRunning(ctx context.Context, db *sql.DB, dialect string) (bool, error) {
	if dialect != migrations.Postgres {
		return false, nil
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("check migration lock: %w", err)
	}
	// Closing returns the connection to the pool; the lock, if taken, is
	// released first below.
	defer conn.Close()
	var name, schemaName string
	if err := conn.QueryRowContext(ctx, "SELECT current_database(), current_schema()").Scan(&name, &schemaName); err != nil {
		return false, fmt.Errorf("check migration lock: %w", err)
	}
	id, err := database.GenerateAdvisoryLockId(name, schemaName, table)
	if err != nil {
		return false, err
	}
	var got bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", id).Scan(&got); err != nil {
		return false, fmt.Errorf("check migration lock: %w", err)
	}
	if got {
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", id); err != nil {
			// Never hand back a pooled session that holds the lock.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			return false, fmt.Errorf("check migration lock: %w", err)
		}
	}
	return !got, nil
}

// logger passes golang-migrate's progress lines to slog.
type logger struct {
	log *slog.Logger
}

func (l *logger) Printf(format string, v ...any) {
	if l.log != nil {
		l.log.Info("migrate: " + trimNewline(fmt.Sprintf(format, v...)))
	}
}

func (l *logger) Verbose() bool { return false }

func trimNewline(s string) string {
	for len(s) > 0 && s[len(s)-1] == '\n' {
		s = s[:len(s)-1]
	}
	return s
}
