// Package schema applies the service's schema to a database and tells the
// long-running processes whether the database's schema is one they can
// serve. The schema has two parts, each applied by its own migrator:
//
//   - the service's tables: the SQL files in the migrations directory,
//     applied by golang-migrate, which records the version last applied
//     and a dirty flag in schema_migrations;
//   - River's tables (the job queue): applied by River's own migrator,
//     rivermigrate, from the River module in go.mod, which records each
//     version in river_migration. A River upgrade brings its new versions
//     with it; nothing of River's is copied into the migrations directory.
//
// A Migrator runs both, the service's first, under one lock that holds
// across processes (see lock.go). golang-migrate's dirty flag is set while
// a migration runs and left set when one fails. Nothing here clears it by
// itself: an operator reads the failure and runs admin migrate force, as
// RecoverySteps says. Each River version runs in one transaction with its
// record, so River's part has no dirty state.
package schema

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strconv"
	"time"

	"github.com/golang-migrate/migrate/v4"
	"github.com/golang-migrate/migrate/v4/database"
	pgxmigrate "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	sqlitemigrate "github.com/golang-migrate/migrate/v4/database/sqlite"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/dozen-go/dozen/internal/postgres"
	"github.com/dozen-go/dozen/migrations"
)

// Errors a caller tells apart with errors.Is.
var (
	// ErrLocked means another migrator held the migration lock for the
	// whole wait and the schema is still not up to date, or, from
	// DirtyError, that the dirty flag belongs to a migration still running.
	ErrLocked = errors.New("another migration is running")
	// ErrDirty means a migration did not finish: it failed, or its
	// migrator died after its commit; see RecoverySteps.
	ErrDirty = errors.New("the database is dirty: a migration did not finish")
	// ErrBehind means the schema is older than this build needs.
	ErrBehind = errors.New("the database schema is older than this build needs")
)

// table is where golang-migrate records the version.
const table = "schema_migrations"

// Migrator applies one dialect's migrations and River's to one database.
// It owns the *sql.DB it was given and closes it in Close.
type Migrator struct {
	db       *sql.DB
	dialect  string
	src      fs.FS
	list     []migrations.Migration
	river    *rivermigrate.Migrator[*sql.Tx]
	lockWait time.Duration
	log      *slog.Logger

	m       *migrate.Migrate // opened on first use; see instance
	holding bool             // the run lock is held; see lock
}

// New returns a Migrator of db, a database of the given dialect
// (migrations.Postgres or migrations.SQLite), applying the files in src
// and River's migrations. lockWait is how long an operation waits for
// another migrator; on Postgres the connection must enforce it too, as
// postgres.OpenMigrationDB's does. log receives both migrators' progress.
func New(db *sql.DB, dialect string, src fs.FS, lockWait time.Duration, log *slog.Logger) (*Migrator, error) {
	list, err := migrations.List(src)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	if dialect != migrations.Postgres && dialect != migrations.SQLite {
		return nil, fmt.Errorf("no migration driver for dialect %q", dialect)
	}
	rm, err := newRiver(db, dialect, log)
	if err != nil {
		return nil, err
	}
	return &Migrator{db: db, dialect: dialect, src: src, list: list, river: rm, lockWait: lockWait, log: log}, nil
}

// instance opens golang-migrate on first use. Opening takes golang-migrate's
// own lock to create schema_migrations; the run lock is held by then, so
// nothing else waits for it. (The Postgres driver then keeps the session
// it took from db until db is closed.)
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

// withLock runs fn holding the run lock. A wait for it that runs out is
// errLockWait.
func (m *Migrator) withLock(ctx context.Context, fn func() error) error {
	unlock, err := m.lock(ctx)
	if err != nil {
		return err
	}
	m.holding = true
	defer func() {
		m.holding = false
		unlock()
	}()
	return fn()
}

// Result is what Up did.
type Result struct {
	From, To uint // the service's versions before and after
	// Applied counts the service's migrations from From to To when this
	// call ran any. It is 0 when there was nothing to do, including when
	// a concurrent migrator did the work.
	Applied int
	// River is what Up did to River's part.
	River RiverResult
}

// Changed reports whether Up changed anything.
func (r Result) Changed() bool {
	return r.Applied > 0 || r.River.Applied > 0 || r.River.Recorded > 0
}

// Up applies every pending migration, the service's then River's, holding
// the run lock. When another migrator holds it for longer than the wait,
// Up looks at the versions again: if that migrator brought the schema up
// to date, there is nothing to do and Up reports no change; otherwise it
// fails with ErrLocked.
func (m *Migrator) Up(ctx context.Context) (Result, error) {
	var res Result
	err := m.withLock(ctx, func() error {
		var err error
		res, err = m.up(ctx)
		return err
	})
	if errors.Is(err, errLockWait) {
		return m.afterLockTimeout(ctx)
	}
	return res, err
}

func (m *Migrator) up(ctx context.Context) (Result, error) {
	recorded, err := m.adopt(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("migrate up: %w", err)
	}
	before, err := m.Status(ctx)
	if err != nil {
		return Result{}, err
	}
	res := Result{From: before.Version, River: RiverResult{From: before.River.Version, Recorded: recorded}}
	mm, err := m.instance()
	if err == nil {
		err = mm.Up()
	}
	ran := err == nil
	if errors.Is(err, migrate.ErrNoChange) {
		err = nil
	}
	if isLockTimeout(err) {
		return res, fmt.Errorf("migrate up: %w: gave up after waiting %s for golang-migrate's lock (MIGRATION_LOCK_TIMEOUT); try again when it ends", ErrLocked, m.lockWait)
	}
	after, serr := m.Status(ctx)
	res.To = after.Version
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
		return res, serr
	}

	rr, err := m.river.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return res, fmt.Errorf("migrate up: River's migrations: %w", err)
	}
	res.River.Applied = len(rr.Versions)
	res.River.To = res.River.From
	for _, v := range rr.Versions {
		res.River.To = max(res.River.To, v.Version)
	}
	return res, nil
}

// afterLockTimeout is Up's answer when the wait for the run lock ran out.
func (m *Migrator) afterLockTimeout(ctx context.Context) (Result, error) {
	s, err := m.Status(ctx)
	if err != nil {
		return Result{}, err
	}
	res := Result{From: s.Version, To: s.Version, River: RiverResult{From: s.River.Version, To: s.River.Version}}
	if !s.Dirty && s.Version >= s.Latest && s.River.Current() {
		return res, nil
	}
	return res, fmt.Errorf("migrate up: %w: gave up after waiting %s for its lock (MIGRATION_LOCK_TIMEOUT); try again when it ends", ErrLocked, m.lockWait)
}

// isLockTimeout reports whether err is a wait for golang-migrate's lock
// that ran out, on the server (lock_timeout) or in golang-migrate.
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

// lockedError is the error of an operation other than Up that gave up
// waiting for the run lock.
func (m *Migrator) lockedError(op string) error {
	return fmt.Errorf("%s: %w: gave up after waiting %s for its lock (MIGRATION_LOCK_TIMEOUT)", op, ErrLocked, m.lockWait)
}

// Down rolls back the last n applied migrations of the service's own;
// River's part stays as it is (River's migrator and CLI own it). It
// refuses, changing nothing, an n larger than the number applied:
// golang-migrate would roll back every migration before finding it short.
func (m *Migrator) Down(ctx context.Context, n int) error {
	if n < 1 {
		return fmt.Errorf("migrate down: the number of migrations must be at least 1")
	}
	err := m.withLock(ctx, func() error { return m.down(ctx, n) })
	if errors.Is(err, errLockWait) {
		return m.lockedError("migrate down")
	}
	return err
}

func (m *Migrator) down(ctx context.Context, n int) error {
	// Recorded first: once the service's version moves below River's old
	// files, nothing would tell how far they went.
	if _, err := m.adopt(ctx); err != nil {
		return fmt.Errorf("migrate down: %w", err)
	}
	s, err := m.Status(ctx)
	if err != nil {
		return err
	}
	if s.Dirty {
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

// None is the version Force takes to record that no migration is applied.
const None = -1

// Force records version v of the service's migrations as applied and
// clears the dirty flag, without running any migration. It is the manual
// recovery step after a failed migration; v = None records that nothing
// is applied. A version that no migration has is refused, changing
// nothing, except on a database an earlier release left dirty at one of
// the versions that held River's tables: there, those versions are the
// ones the recovery steps name.
func (m *Migrator) Force(ctx context.Context, v int) error {
	if v == 0 || v < None {
		return fmt.Errorf("migrate force: no migration has version %d; to record that none is applied, force none", v)
	}
	err := m.withLock(ctx, func() error {
		if v > 0 && !m.known(uint(v)) {
			cur, _, err := Version(ctx, m.db, m.dialect)
			if err != nil {
				return err
			}
			if !retired(uint(v)) || !retired(cur) {
				return fmt.Errorf("no migration has version %d", v)
			}
		}
		mm, err := m.instance()
		if err == nil {
			err = mm.Force(v)
		}
		return err
	})
	if errors.Is(err, errLockWait) {
		return m.lockedError("migrate force")
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

// Status reads the database's schema versions without taking the lock.
func (m *Migrator) Status(ctx context.Context) (Status, error) {
	return readStatus(ctx, m.db, m.dialect, m.list, m.river, !m.holding)
}

// readStatus compares db's schema versions with list, the migrations of
// its dialect, and with River's, without taking the lock. With running, a
// dirty flag is told apart from a migration still running.
func readStatus(ctx context.Context, db *sql.DB, dialect string, list []migrations.Migration, rm *rivermigrate.Migrator[*sql.Tx], running bool) (Status, error) {
	v, dirty, err := Version(ctx, db, dialect)
	if err != nil {
		return Status{}, err
	}
	s := Status{Version: v, Dirty: dirty, list: list}
	if dirty && running {
		if s.Running, err = locked(ctx, db, dialect); err != nil {
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
	if s.River, err = riverStatus(ctx, db, dialect, rm, v); err != nil {
		return Status{}, err
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

// Status is a database's schema versions compared with the migrations.
type Status struct {
	Version uint // the service's; 0 when none of its migrations is applied
	// Dirty is set while a migration runs, and stays set if it fails.
	Dirty bool
	// Running tells the two apart: another migrator holds the run lock.
	Running bool
	Latest  uint // the highest version among the service's migrations
	Pending []migrations.Migration
	// River is River's part.
	River RiverStatus

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

// previous is the version applied before s.Version, or None.
func (s Status) previous() int {
	if retired(s.Version) {
		return int(s.Version) - 1
	}
	prev := None
	for _, mi := range s.list {
		if mi.Version < s.Version {
			prev = int(mi.Version)
		}
	}
	return prev
}

// RecoverySteps tells an operator how to recover from a migration to
// version v that left the database dirty, prev being the version before
// it (None for none). Each migration runs in one transaction, so it either changed nothing
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
  admin migrate force %s
  admin migrate up
If it applied fully: record it as applied, then apply any later ones:
  admin migrate force %d
  admin migrate up
A statement that cannot run in a transaction (CREATE INDEX CONCURRENTLY)
can leave part of a migration behind: undo that part by hand, then take
the first path. Nothing forces a version automatically.`, v, ForceArg(prev), v)
}

// ForceArg is how admin migrate force is told version v: its number, or
// "none" for None.
func ForceArg(v int) string {
	if v == None {
		return "none"
	}
	return strconv.Itoa(v)
}

// Version reads the version of the service's migrations recorded in db,
// and whether it is dirty, without taking the lock. A database never
// migrated is at 0.
func Version(ctx context.Context, db *sql.DB, dialect string) (version uint, dirty bool, err error) {
	ok, err := tableExists(ctx, db, dialect, table)
	if err != nil {
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

// tableExists reports whether db has the table name, in the current
// schema on Postgres.
func tableExists(ctx context.Context, db *sql.DB, dialect, name string) (bool, error) {
	q := "SELECT to_regclass($1) IS NOT NULL"
	if dialect == migrations.SQLite {
		q = "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = $1"
	}
	var ok bool
	err := db.QueryRowContext(ctx, q, name).Scan(&ok)
	return ok, err
}

// Check tells a long-running process whether it can serve db's schema,
// the service's and River's: an older one than the migrations in src and
// River's in this build, or a dirty one, is an error saying what the
// operator must do; a newer one is accepted, so that during a rolling
// deploy the previous release keeps serving after the release step ran.
func Check(ctx context.Context, db *sql.DB, dialect string, src fs.FS) (Status, error) {
	list, err := migrations.List(src)
	if err != nil {
		return Status{}, fmt.Errorf("migrations: %w", err)
	}
	rm, err := newRiver(db, dialect, nil)
	if err != nil {
		return Status{}, err
	}
	s, err := readStatus(ctx, db, dialect, list, rm, true)
	switch {
	case err != nil:
		return Status{}, err
	case s.Dirty:
		return s, s.DirtyError()
	case s.Version < s.Latest:
		return s, fmt.Errorf("%w: it is at version %d, this build needs %d; run \"admin migrate up\" (the release step) first", ErrBehind, s.Version, s.Latest)
	case !s.River.Current():
		return s, fmt.Errorf("%w: River's part is at version %d, this build needs %d; run \"admin migrate up\" (the release step) first", ErrBehind, s.River.Version, s.River.Latest)
	}
	return s, nil
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
