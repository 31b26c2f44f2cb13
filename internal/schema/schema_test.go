package schema

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/rivermigrate"
	"go.uber.org/goleak"

	"github.com/dozen-go/dozen/internal/config"
	"github.com/dozen-go/dozen/internal/postgres"
	"github.com/dozen-go/dozen/internal/postgres/pgtest"
	"github.com/dozen-go/dozen/internal/sqlite"
	"github.com/dozen-go/dozen/migrations"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// target is a database of one dialect, made fresh for one test.
type target struct {
	dialect string
	url     config.URL // Postgres only
	dir     string     // SQLite only
	inspect *sql.DB    // a separate handle for looking at the schema
}

// migrator opens a Migrator of t's database over src.
func (tg *target) migrator(t *testing.T, src fs.FS, lockWait time.Duration) *Migrator {
	t.Helper()
	var db *sql.DB
	var err error
	if tg.dialect == migrations.Postgres {
		db, err = postgres.OpenMigrationDB(tg.url, lockWait, 5*time.Second)
	} else {
		db, err = sqlite.Open(t.Context(), tg.dir)
	}
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(db, tg.dialect, src, lockWait, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func (tg *target) tableExists(t *testing.T, name string) bool {
	t.Helper()
	q := "SELECT to_regclass($1) IS NOT NULL"
	if tg.dialect == migrations.SQLite {
		q = "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = $1"
	}
	var ok bool
	if err := tg.inspect.QueryRow(q, name).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

// eachDialect runs fn on a fresh SQLite database and, when
// TEST_DATABASE_URL is set, a fresh Postgres database.
func eachDialect(t *testing.T, fn func(t *testing.T, tg *target)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, sqliteTarget(t)) })
	t.Run("postgres", func(t *testing.T) {
		u := pgtest.NewDatabase(t)
		db, err := postgres.Open(t.Context(), u, postgres.Options{Attempts: 1, ConnectTimeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		fn(t, &target{dialect: migrations.Postgres, url: u, inspect: db.SQL})
	})
}

// sqliteTarget returns a fresh SQLite database.
func sqliteTarget(t *testing.T) *target {
	t.Helper()
	dir := t.TempDir()
	db, err := sqlite.Open(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &target{dialect: migrations.SQLite, dir: dir, inspect: db}
}

func realMigrations(t *testing.T, dialect string) fs.FS {
	src, err := migrations.FS(dialect)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// riverLatest is the highest of River's versions in this build.
func riverLatest(t *testing.T) int {
	t.Helper()
	rm, err := newRiver(nil, migrations.SQLite, nil)
	if err != nil {
		t.Fatal(err)
	}
	all := rm.AllVersions()
	return all[len(all)-1].Version
}

func TestUpDownCheck(t *testing.T) {
	eachDialect(t, func(t *testing.T, tg *target) {
		ctx := t.Context()
		src := realMigrations(t, tg.dialect)
		list, err := migrations.List(src)
		if err != nil || len(list) < 2 {
			t.Fatalf("migrations.List() = %v, %v; want at least two", list, err)
		}
		latest, prev, n := list[len(list)-1].Version, list[len(list)-2].Version, len(list)
		river := riverLatest(t)
		m := tg.migrator(t, src, 5*time.Second)

		if _, err := Check(ctx, tg.inspect, tg.dialect, src); !errors.Is(err, ErrBehind) || !strings.Contains(err.Error(), "admin migrate up") {
			t.Errorf("Check(empty database) = %v, want ErrBehind telling to run admin migrate up", err)
		}
		start := time.Now()
		res, err := m.Up(ctx)
		t.Logf("migrate up from 0 to %d, River's from 0 to %d, took %v", latest, river, time.Since(start))
		want := Result{From: 0, To: latest, Applied: n, River: RiverResult{From: 0, To: river, Applied: river}}
		if err != nil || res != want {
			t.Fatalf("Up() = %+v, %v; want %+v", res, err, want)
		}
		// The job queue's table, from River's migrator.
		if !tg.tableExists(t, "river_job") {
			t.Errorf("after Up, table river_job missing")
		}
		want = Result{From: latest, To: latest, River: RiverResult{From: river, To: river}}
		if res, err := m.Up(ctx); err != nil || res != want || res.Changed() {
			t.Errorf("second Up() = %+v, %v; want no change", res, err)
		}
		if s, err := Check(ctx, tg.inspect, tg.dialect, src); err != nil || s.River.Version != river || !s.River.Current() {
			t.Errorf("Check(migrated) = %+v, %v; want nil, River at %d", s, err, river)
		}

		// River's part one version behind: refused, and Up applies it.
		if _, err := m.river.Migrate(ctx, rivermigrate.DirectionDown, &rivermigrate.MigrateOpts{MaxSteps: 1}); err != nil {
			t.Fatal(err)
		}
		if _, err := Check(ctx, tg.inspect, tg.dialect, src); !errors.Is(err, ErrBehind) || !strings.Contains(err.Error(), "River") {
			t.Errorf("Check(River one behind) = %v, want ErrBehind naming River's part", err)
		}
		if res, err := m.Up(ctx); err != nil || res.Applied != 0 || res.River.Applied != 1 || res.River.To != river {
			t.Errorf("Up(River one behind) = %+v, %v; want River's last version applied", res, err)
		}

		// More than is applied: refused before anything is rolled back.
		if err := m.Down(ctx, n+1); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("roll back %d migrations, but only %d are applied", n+1, n)) {
			t.Errorf("Down(%d) with %d applied = %v, want a refusal naming both numbers", n+1, n, err)
		}
		if s, _ := m.Status(ctx); s.Version != latest || s.Dirty {
			t.Errorf("Status() after a refused Down = %+v, want version %d untouched", s, latest)
		}
		if err := m.Down(ctx, 1); err != nil {
			t.Fatalf("Down(1) = %v", err)
		}
		if s, _ := m.Status(ctx); s.Version != prev || len(s.Pending) != 1 {
			t.Errorf("Status() after Down(1) = %+v, want version %d with one pending", s, prev)
		}
		if _, err := Check(ctx, tg.inspect, tg.dialect, src); !errors.Is(err, ErrBehind) {
			t.Errorf("Check(one behind) = %v, want ErrBehind", err)
		}
		if err := m.Down(ctx, n-1); err != nil {
			t.Fatalf("Down(rest) = %v", err)
		}
		if tg.tableExists(t, "idempotency_keys") {
			t.Errorf("after Down of every migration, table idempotency_keys remains")
		}
		// River's part is River's: Down leaves it.
		if s, err := m.Status(ctx); err != nil || s.Version != 0 || s.River.Version != river || !tg.tableExists(t, "river_job") {
			t.Errorf("Status() after Down of every migration = %+v, %v; want version 0, River's part untouched", s, err)
		}
		if res, err := m.Up(ctx); err != nil || res.To != latest || res.River.Applied != 0 {
			t.Fatalf("Up() after Down = %+v, %v; want version %d, River's part untouched", res, err, latest)
		}
	})
}

// A newer schema than the build knows is served: rolling deploys run the
// new release's migrations while the old release still serves.
func TestCheckAcceptsNewerSchema(t *testing.T) {
	eachDialect(t, func(t *testing.T, tg *target) {
		src := realMigrations(t, tg.dialect)
		newer := fstest.MapFS{}
		fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
			if !d.IsDir() {
				b, _ := fs.ReadFile(src, p)
				newer[p] = &fstest.MapFile{Data: b}
			}
			return nil
		})
		newer["000999_later.up.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE later (id integer);")}
		newer["000999_later.down.sql"] = &fstest.MapFile{Data: []byte("DROP TABLE later;")}
		if _, err := tg.migrator(t, newer, 5*time.Second).Up(t.Context()); err != nil {
			t.Fatal(err)
		}
		if s, err := Check(t.Context(), tg.inspect, tg.dialect, src); err != nil || s.Version != 999 {
			t.Errorf("Check(newer schema) = %+v, %v; want version 999 accepted", s, err)
		}
	})
}

// failing has a migration that fails after its first statement worked.
func failing() fstest.MapFS {
	return fstest.MapFS{
		"000001_first.up.sql":    {Data: []byte("CREATE TABLE first (id integer);")},
		"000001_first.down.sql":  {Data: []byte("DROP TABLE first;")},
		"000002_broken.up.sql":   {Data: []byte("CREATE TABLE half (id integer);\nINSERT INTO no_such_table VALUES (1);")},
		"000002_broken.down.sql": {Data: []byte("DROP TABLE half;")},
	}
}

func TestFailedMigrationLeavesNoPartialSchemaAndDirtyFlag(t *testing.T) {
	eachDialect(t, func(t *testing.T, tg *target) {
		ctx := t.Context()
		m := tg.migrator(t, failing(), 5*time.Second)
		_, err := m.Up(ctx)
		if !errors.Is(err, ErrDirty) || !strings.Contains(err.Error(), "admin migrate force 1") {
			t.Fatalf("Up(broken migration) = %v, want ErrDirty with the recovery steps", err)
		}
		if !tg.tableExists(t, "first") {
			t.Errorf("migration 1 was rolled back, want it applied")
		}
		if tg.tableExists(t, "half") {
			t.Errorf("table half exists: the failed migration left a partial schema")
		}
		s, err := m.Status(ctx)
		if err != nil || !s.Dirty || s.Version != 2 {
			t.Errorf("Status() = %+v, %v; want dirty at 2", s, err)
		}
		// The web process refuses the schema, with the steps.
		if _, err := Check(ctx, tg.inspect, tg.dialect, failing()); !errors.Is(err, ErrDirty) || !strings.Contains(err.Error(), "To recover") {
			t.Errorf("Check(dirty) = %v, want ErrDirty with the recovery steps", err)
		}
		// Nothing forces a version by itself: Up again refuses.
		if _, err := m.Up(ctx); !errors.Is(err, ErrDirty) {
			t.Errorf("Up() on a dirty database = %v, want ErrDirty", err)
		}
		if err := m.Force(ctx, 1); err != nil {
			t.Fatalf("Force(1) = %v", err)
		}
		if s, _ := m.Status(ctx); s.Dirty || s.Version != 1 {
			t.Errorf("Status() after Force(1) = %+v, want clean at 1", s)
		}
		if err := m.Force(ctx, 7); err == nil {
			t.Errorf("Force(7) = nil, want an error: no migration has version 7")
		}
	})
}

// forceSteps returns the versions a dirty database's recovery steps say
// to force: for a migration that changed nothing, then for one that
// applied fully.
func forceSteps(t *testing.T, err error) (changedNothing, appliedFully int) {
	t.Helper()
	found := regexp.MustCompile(`admin migrate force (\S+)\n`).FindAllStringSubmatch(fmt.Sprint(err), -1)
	if len(found) != 2 {
		t.Fatalf("recovery steps name %d versions to force, want one per case:\n%v", len(found), err)
	}
	return forceArg(t, found[0][1]), forceArg(t, found[1][1])
}

// forceArg reads a version as admin migrate force takes it.
func forceArg(t *testing.T, arg string) int {
	t.Helper()
	if arg == "none" {
		return None
	}
	v, err := strconv.Atoi(arg)
	if err != nil || v < 1 {
		t.Fatalf("recovery steps say to force %q, which is neither none nor a version", arg)
	}
	return v
}

// TestDirtyRecoveryBothCases follows the printed recovery steps in both
// cases a dirty flag can mean: a migration that failed and changed
// nothing, and one that applied fully before its migrator died (after its
// commit, before clearing the flag). Each case's steps bring the schema up
// to date; the other case's would not.
func TestDirtyRecoveryBothCases(t *testing.T) {
	eachDialect(t, func(t *testing.T, tg *target) {
		ctx := t.Context()
		// Changed nothing: migration 2 fails.
		_, err := tg.migrator(t, failing(), 5*time.Second).Up(ctx)
		if !errors.Is(err, ErrDirty) || tg.tableExists(t, "half") {
			t.Fatalf("Up(broken migration) = %v, want ErrDirty and no table half", err)
		}
		nothing, _ := forceSteps(t, err)
		if nothing != 1 {
			t.Fatalf("steps for a migration that changed nothing force %d, want 1, the version before it", nothing)
		}
		fixed := failing()
		fixed["000002_broken.up.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE half (id integer);")}
		m := tg.migrator(t, fixed, 5*time.Second)
		if err := m.Force(ctx, nothing); err != nil {
			t.Fatal(err)
		}
		if res, err := m.Up(ctx); err != nil || res.To != 2 || !tg.tableExists(t, "half") {
			t.Fatalf("Up(fixed) after forcing %d = %+v, %v; want version 2 with table half", nothing, res, err)
		}

		// Applied fully: migration 3 commits, and its migrator dies before
		// clearing the flag.
		fixed["000003_more.up.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE more (id integer);")}
		fixed["000003_more.down.sql"] = &fstest.MapFile{Data: []byte("DROP TABLE more;")}
		m = tg.migrator(t, fixed, 5*time.Second)
		if _, err := m.Up(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := tg.inspect.ExecContext(ctx, "UPDATE schema_migrations SET dirty = true"); err != nil {
			t.Fatal(err)
		}
		_, err = Check(ctx, tg.inspect, tg.dialect, fixed)
		if !errors.Is(err, ErrDirty) || !tg.tableExists(t, "more") {
			t.Fatalf("Check(dirty after a commit) = %v, want ErrDirty with table more present", err)
		}
		wrong, fully := forceSteps(t, err)
		if fully != 3 {
			t.Fatalf("steps for a migration that applied fully force %d, want 3, its own version", fully)
		}
		// The other case's steps run migration 3 again, which fails.
		if err := m.Force(ctx, wrong); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Up(ctx); !errors.Is(err, ErrDirty) {
			t.Errorf("Up() after forcing %d over an applied migration = %v, want it to fail and leave the flag", wrong, err)
		}
		if err := m.Force(ctx, fully); err != nil {
			t.Fatal(err)
		}
		if res, err := m.Up(ctx); err != nil || res.To != 3 || res.Applied != 0 {
			t.Errorf("Up() after forcing %d = %+v, %v; want version 3, nothing applied", fully, res, err)
		}
		if _, err := Check(ctx, tg.inspect, tg.dialect, fixed); err != nil {
			t.Errorf("Check(recovered) = %v, want nil", err)
		}
	})
}

// slow has one migration that takes a while, so that two migrators overlap.
func slow() fstest.MapFS {
	return fstest.MapFS{
		"000001_slow.up.sql":   {Data: []byte("CREATE TABLE slow (id integer); SELECT pg_sleep(0.5);")},
		"000001_slow.down.sql": {Data: []byte("DROP TABLE slow;")},
	}
}

func TestConcurrentMigratorsApplyOnce(t *testing.T) {
	u := pgtest.NewDatabase(t)
	tg := &target{dialect: migrations.Postgres, url: u}
	a, b := tg.migrator(t, slow(), 5*time.Second), tg.migrator(t, slow(), 5*time.Second)
	var wg sync.WaitGroup
	results := make([]Result, 2)
	errs := make([]error, 2)
	for i, m := range []*Migrator{a, b} {
		wg.Go(func() { results[i], errs[i] = m.Up(t.Context()) })
	}
	wg.Wait()
	applied := 0
	for i := range 2 {
		if errs[i] != nil {
			t.Errorf("migrator %d: Up() = %v, want nil", i, errs[i])
		}
		if results[i].To != 1 {
			t.Errorf("migrator %d: Up() = %+v, want to reach 1", i, results[i])
		}
		applied += results[i].Applied
	}
	if applied != 1 {
		t.Errorf("%d migrators applied the migration (%+v), want exactly 1; the other reports no change", applied, results)
	}
}

// holdLock takes the run lock of database u on a session of its own, as
// a running migrator would, and returns that session.
func holdLock(t *testing.T, u config.URL) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), u.Value())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	id, err := runLockID(pgtest.Name(u), "public")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(t.Context(), "SELECT pg_advisory_lock($1)", id); err != nil {
		t.Fatal(err)
	}
	return conn
}

func advisoryLockHolders(t *testing.T, conn *pgx.Conn) int {
	t.Helper()
	var n int
	err := conn.QueryRow(t.Context(), "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())").Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestLockWaitIsBounded(t *testing.T) {
	u := pgtest.NewDatabase(t)
	tg := &target{dialect: migrations.Postgres, url: u}
	v1 := fstest.MapFS{
		"000001_a.up.sql":   {Data: []byte("CREATE TABLE a (id integer);")},
		"000001_a.down.sql": {Data: []byte("DROP TABLE a;")},
	}
	if _, err := tg.migrator(t, v1, time.Second).Up(t.Context()); err != nil {
		t.Fatal(err)
	}
	holder := holdLock(t, u)

	t.Run("up to date: nothing to do", func(t *testing.T) {
		start := time.Now()
		res, err := tg.migrator(t, v1, 300*time.Millisecond).Up(t.Context())
		if err != nil || res.Changed() || res.To != 1 || res.River.To != riverLatest(t) {
			t.Errorf("Up() while locked, schema current = %+v, %v; want no change", res, err)
		}
		if elapsed := time.Since(start); elapsed > 3*time.Second {
			t.Errorf("Up() waited %v, want about MIGRATION_LOCK_TIMEOUT", elapsed)
		}
	})

	v2 := fstest.MapFS{
		"000001_a.up.sql": v1["000001_a.up.sql"], "000001_a.down.sql": v1["000001_a.down.sql"],
		"000002_b.up.sql":   {Data: []byte("CREATE TABLE b (id integer);")},
		"000002_b.down.sql": {Data: []byte("DROP TABLE b;")},
	}
	m := tg.migrator(t, v2, 300*time.Millisecond)
	t.Run("pending: another migration is running", func(t *testing.T) {
		start := time.Now()
		_, err := m.Up(t.Context())
		if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "MIGRATION_LOCK_TIMEOUT") {
			t.Errorf("Up() while locked, migration pending = %v, want ErrLocked naming MIGRATION_LOCK_TIMEOUT", err)
		}
		if elapsed := time.Since(start); elapsed > 3*time.Second {
			t.Errorf("Up() waited %v, want about MIGRATION_LOCK_TIMEOUT", elapsed)
		}
		// The migrator that gave up holds no lock, now or later.
		time.Sleep(100 * time.Millisecond)
		if n := advisoryLockHolders(t, holder); n != 1 {
			t.Errorf("%d sessions hold an advisory lock, want 1 (the test's)", n)
		}
	})

	if _, err := holder.Exec(t.Context(), "SELECT pg_advisory_unlock_all()"); err != nil {
		t.Fatal(err)
	}
	if res, err := m.Up(t.Context()); err != nil || res.From != 1 || res.To != 2 || res.Applied != 1 || res.River.Applied != 0 {
		t.Errorf("Up() once the lock is free = %+v, %v; want from 1 to 2", res, err)
	}
}

// TestDirtyWhileRunning tells a migration still running (its session holds
// the lock) from one that failed: only the latter is ErrDirty.
func TestDirtyWhileRunning(t *testing.T) {
	u := pgtest.NewDatabase(t)
	tg := &target{dialect: migrations.Postgres, url: u}
	m := tg.migrator(t, failing(), time.Second)
	if _, err := m.Up(t.Context()); !errors.Is(err, ErrDirty) {
		t.Fatalf("Up(broken) = %v, want ErrDirty", err)
	}
	holder := holdLock(t, u)
	s, err := m.Status(t.Context())
	if err != nil || !s.Dirty || !s.Running {
		t.Errorf("Status() with the lock held = %+v, %v; want dirty and running", s, err)
	}
	if err := s.DirtyError(); !errors.Is(err, ErrLocked) || errors.Is(err, ErrDirty) {
		t.Errorf("DirtyError() while running = %v, want ErrLocked", err)
	}
	holder.Exec(t.Context(), "SELECT pg_advisory_unlock_all()")
	if s, _ := m.Status(t.Context()); !s.Dirty || s.Running {
		t.Errorf("Status() with the lock free = %+v, want dirty, not running", s)
	}
	if n := advisoryLockHolders(t, holder); n != 0 {
		t.Errorf("%d sessions hold an advisory lock after Status, want 0", n)
	}
}

// TestKilledMigratorLeavesNoLock terminates a migrator's session mid-run,
// as a crash or an OOM kill would: the advisory lock goes with the
// session, the migration's changes are rolled back, and the dirty flag
// tells the operator what happened.
func TestKilledMigratorLeavesNoLock(t *testing.T) {
	u := pgtest.NewDatabase(t)
	tg := &target{dialect: migrations.Postgres, url: u}
	long := fstest.MapFS{
		"000001_long.up.sql":   {Data: []byte("CREATE TABLE long (id integer); SELECT pg_sleep(30);")},
		"000001_long.down.sql": {Data: []byte("DROP TABLE long;")},
	}
	m := tg.migrator(t, long, time.Second)
	done := make(chan error, 1)
	go func() { _, err := m.Up(context.Background()); done <- err }()

	watcher, err := pgx.Connect(t.Context(), u.Value())
	if err != nil {
		t.Fatal(err)
	}
	defer watcher.Close(context.Background())
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var n int
		watcher.QueryRow(t.Context(), "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()").Scan(&n)
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the migration did not start")
		}
	}
	if _, err := watcher.Exec(t.Context(), "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Up() = nil after its session was terminated, want an error")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Up() still running 10s after its session was terminated")
	}
	if n := advisoryLockHolders(t, watcher); n != 0 {
		t.Errorf("%d sessions hold an advisory lock after the migrator died, want 0", n)
	}
	var exists bool
	watcher.QueryRow(t.Context(), "SELECT to_regclass('long') IS NOT NULL").Scan(&exists)
	if exists {
		t.Errorf("table long exists: the killed migration left a partial schema")
	}
	v, dirty, err := Version(t.Context(), tg.inspectDB(t), migrations.Postgres)
	if err != nil || v != 1 || !dirty {
		t.Errorf("Version() = %d, %v, %v; want 1, dirty", v, dirty, err)
	}
}

// inspectDB opens a plain handle on a Postgres target.
func (tg *target) inspectDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := postgres.Open(t.Context(), tg.url, postgres.Options{Attempts: 1, ConnectTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db.SQL
}

// TestDirtyFirstMigration follows the printed steps after the first
// migration failed: they name "none", which Force takes; a version no
// migration has, 0 included, is refused and changes nothing.
func TestDirtyFirstMigration(t *testing.T) {
	eachDialect(t, func(t *testing.T, tg *target) {
		ctx := t.Context()
		broken := fstest.MapFS{
			"000001_first.up.sql":   {Data: []byte("CREATE TABLE first (id integer);\nINSERT INTO no_such_table VALUES (1);")},
			"000001_first.down.sql": {Data: []byte("DROP TABLE first;")},
		}
		m := tg.migrator(t, broken, 5*time.Second)
		_, err := m.Up(ctx)
		if !errors.Is(err, ErrDirty) {
			t.Fatalf("Up(broken first migration) = %v, want ErrDirty", err)
		}
		if !strings.Contains(err.Error(), "admin migrate force none\n") {
			t.Errorf("recovery steps for the first migration = %v, want them to say admin migrate force none", err)
		}
		nothing, _ := forceSteps(t, err)
		if nothing != None {
			t.Fatalf("steps for a first migration that changed nothing force %d, want None", nothing)
		}
		for _, v := range []int{0, -2, 2, 42, 7} {
			if err := m.Force(ctx, v); err == nil || !strings.Contains(err.Error(), "no migration has version") {
				t.Errorf("Force(%d) = %v, want a refusal: no migration has it", v, err)
			}
		}
		if s, err := m.Status(ctx); err != nil || !s.Dirty || s.Version != 1 {
			t.Errorf("Status() after refused Forces = %+v, %v; want dirty at 1, unchanged", s, err)
		}
		if err := m.Force(ctx, nothing); err != nil {
			t.Fatalf("Force(None) = %v", err)
		}
		fixed := fstest.MapFS{
			"000001_first.up.sql":   {Data: []byte("CREATE TABLE first (id integer);")},
			"000001_first.down.sql": broken["000001_first.down.sql"],
		}
		if res, err := tg.migrator(t, fixed, 5*time.Second).Up(ctx); err != nil || res.To != 1 || res.Applied != 1 {
			t.Errorf("Up(fixed) after Force(None) = %+v, %v; want migration 1 applied", res, err)
		}
	})
}

// TestManyMigratorsAtOnce starts several migrators at the same moment on
// one fresh database, each with its own connections as separate processes
// have: all succeed, exactly one applies the migrations, River's
// included, and the schema is clean and current. SQLite's round is cheap
// and a race shows only in some rounds, so it runs a few.
func TestManyMigratorsAtOnce(t *testing.T) {
	eachDialect(t, manyAtOnce)
	for i := range 4 {
		t.Run(fmt.Sprintf("sqlite again %d", i+1), func(t *testing.T) { manyAtOnce(t, sqliteTarget(t)) })
	}
}

func manyAtOnce(t *testing.T, tg *target) {
	src := realMigrations(t, tg.dialect)
	const n = 6
	ms := make([]*Migrator, n)
	for i := range ms {
		ms[i] = tg.migrator(t, src, 15*time.Second)
	}
	results := make([]Result, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, m := range ms {
		wg.Go(func() {
			<-start
			results[i], errs[i] = m.Up(t.Context())
		})
	}
	close(start)
	wg.Wait()
	changed, river := 0, 0
	for i := range n {
		if errs[i] != nil {
			t.Errorf("migrator %d: Up() = %v, want nil", i, errs[i])
		}
		if results[i].Changed() {
			changed++
		}
		river += results[i].River.Applied
	}
	if changed != 1 || river != riverLatest(t) {
		t.Errorf("results %+v: %d migrators changed the schema and %d River versions were applied, want 1 and %d", results, changed, river, riverLatest(t))
	}
	if s, err := Check(t.Context(), tg.inspect, tg.dialect, src); err != nil || s.Dirty || s.Version != s.Latest {
		t.Errorf("Check() = %+v, %v; want clean and current", s, err)
	}
}

// earlierRelease turns a fresh database into one that an earlier
// release's migration files left: River's versions 1 to riverVersion
// applied (the files held River's SQL as it is) but none recorded in
// river_migration, and the service at version service. It returns the
// Migrator.
func earlierRelease(t *testing.T, tg *target, riverVersion int, service uint, dirty bool) *Migrator {
	t.Helper()
	ctx := t.Context()
	m := tg.migrator(t, realMigrations(t, tg.dialect), 5*time.Second)
	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if riverVersion < riverLatest(t) {
		if _, err := m.river.Migrate(ctx, rivermigrate.DirectionDown, &rivermigrate.MigrateOpts{TargetVersion: riverVersion}); err != nil {
			t.Fatal(err)
		}
	}
	// The earlier releases ended at 12: roll back what came since, and
	// below 12 the service's last file before River's.
	list, err := migrations.List(realMigrations(t, tg.dialect))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, mg := range list {
		if mg.Version > 12 {
			n++
		}
	}
	if service < 12 {
		n++
	}
	if n > 0 {
		if err := m.Down(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{
		"DELETE FROM river_migration",
		fmt.Sprintf("UPDATE schema_migrations SET version = %d, dirty = %v", service, dirty),
	} {
		if _, err := tg.inspect.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return m
}

// TestAdoptsRiverTablesOfEarlierReleases: a database whose River tables
// an earlier release's migration files created (versions 4 to 11, River's
// 1 to 8, recorded nowhere in river_migration) is served only after
// admin migrate up, which records River's versions instead of creating
// the tables again, and applies what is missing.
func TestAdoptsRiverTablesOfEarlierReleases(t *testing.T) {
	eachDialect(t, func(t *testing.T, tg *target) {
		ctx := t.Context()
		src := realMigrations(t, tg.dialect)
		river := riverLatest(t)
		latest, _ := migrations.Latest(src)

		// The release before River's migrator: the service at 12, River's
		// versions 1 to 8 from its files.
		m := earlierRelease(t, tg, river, 12, false)
		if _, err := tg.inspect.ExecContext(ctx, "INSERT INTO idempotency_keys (scope, key, request_hash, created_at, expires_at) VALUES ('keep', 'keep', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"); err != nil {
			t.Fatal(err)
		}
		s, err := Check(ctx, tg.inspect, tg.dialect, src)
		if !errors.Is(err, ErrBehind) || s.River.Unrecorded != river {
			t.Errorf("Check(earlier release) = %+v, %v; want ErrBehind with River's %d versions unrecorded", s, err, river)
		}
		res, err := m.Up(ctx)
		if err != nil || res.River.Recorded != river || res.River.Applied != 0 || res.To != latest {
			t.Fatalf("Up(earlier release) = %+v, %v; want River's %d versions recorded, none applied, the service at %d", res, err, river, latest)
		}
		if s, err := Check(ctx, tg.inspect, tg.dialect, src); err != nil || s.River.Version != river {
			t.Errorf("Check() after Up = %+v, %v; want nil", s, err)
		}
		var n int
		if err := tg.inspect.QueryRowContext(ctx, "SELECT count(*) FROM idempotency_keys").Scan(&n); err != nil || n != 1 {
			t.Errorf("idempotency_keys after Up = %d, %v; want the one row kept", n, err)
		}
	})
}

// TestAdoptsPartlyMigratedEarlierRelease: a database that an earlier
// release's files left part way through River's versions (the service at
// 7: River's 1 to 4, before River's migration table had its line column),
// clean or dirty, ends current after the printed steps.
func TestAdoptsPartlyMigratedEarlierRelease(t *testing.T) {
	eachDialect(t, func(t *testing.T, tg *target) {
		ctx := t.Context()
		src := realMigrations(t, tg.dialect)
		river := riverLatest(t)
		latest, _ := migrations.Latest(src)

		list, err := migrations.List(src)
		if err != nil {
			t.Fatal(err)
		}
		above := 0 // the service's versions after 3, the last before River's
		for _, mg := range list {
			if mg.Version > 3 {
				above++
			}
		}
		m := earlierRelease(t, tg, 4, 7, false)
		res, err := m.Up(ctx)
		want := Result{From: 3, To: latest, Applied: above, River: RiverResult{From: 4, To: river, Applied: river - 4, Recorded: 4}}
		if err != nil || res != want {
			t.Fatalf("Up(partly migrated) = %+v, %v; want %+v", res, err, want)
		}
		if _, err := Check(ctx, tg.inspect, tg.dialect, src); err != nil {
			t.Errorf("Check() after Up = %v, want nil", err)
		}
	})
	eachDialect(t, func(t *testing.T, tg *target) {
		ctx := t.Context()
		src := realMigrations(t, tg.dialect)
		// Dirty at 8 (River's version 5), which applied fully.
		m := earlierRelease(t, tg, 5, 8, true)
		_, err := m.Up(ctx)
		if !errors.Is(err, ErrDirty) {
			t.Fatalf("Up(dirty earlier release) = %v, want ErrDirty", err)
		}
		nothing, fully := forceSteps(t, err)
		if nothing != 7 || fully != 8 {
			t.Errorf("recovery steps force %d or %d, want 7 or 8", nothing, fully)
		}
		if err := m.Force(ctx, fully); err != nil {
			t.Fatalf("Force(%d) = %v", fully, err)
		}
		if _, err := m.Up(ctx); err != nil {
			t.Fatalf("Up() after Force(%d) = %v", fully, err)
		}
		if _, err := Check(ctx, tg.inspect, tg.dialect, src); err != nil {
			t.Errorf("Check() after recovery = %v, want nil", err)
		}
	})
}
