package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"go.uber.org/goleak"

	"github.com/dozen-go/dozen/internal/postgres/pgtest"
	"github.com/dozen-go/dozen/internal/sqlite"
	"github.com/dozen-go/dozen/migrations"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// admin runs the command line args with env and returns its exit code as
// main would set it, and what it printed on stdout and stderr.
func admin(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut strings.Builder
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	if err := run(context.Background(), args, lookup, &out, &errOut); err != nil {
		errOut.WriteString("admin: " + err.Error() + "\n")
		code = exitCode(err)
	}
	return code, out.String(), errOut.String()
}

// versions returns the migrations of a dialect: the tests follow them as
// migrations are added.
func versions(t *testing.T, dialect string) []migrations.Migration {
	t.Helper()
	dir, err := migrations.FS(dialect)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := migrations.List(dir)
	if err != nil || len(ms) < 2 {
		t.Fatalf("migrations.List(%s) = %v, %v; want at least two", dialect, ms, err)
	}
	return ms
}

func TestCommandsEmbedded(t *testing.T) {
	env := map[string]string{"DATA_DIR": t.TempDir(), "LOG_LEVEL": "warn"}
	ms := versions(t, migrations.SQLite)
	last, prev := ms[len(ms)-1], ms[len(ms)-2]
	n := len(ms)
	tests := []struct {
		args     []string
		wantCode int
		wantOut  string // in stdout, or stderr when the code is not 0
	}{
		{nil, 2, "no command given"},
		{[]string{"bogus"}, 2, `unknown command "bogus"`},
		{[]string{"help"}, 0, "migrate create NAME"},
		{[]string{"migrate"}, 2, "migrate needs a subcommand"},
		{[]string{"migrate", "up", "--help"}, 0, ""},
		{[]string{"migrate", "status"}, 0, fmt.Sprintf("pending:  %06d_%s", ms[0].Version, ms[0].Title)},
		{[]string{"migrate", "up"}, 0, fmt.Sprintf("migrated from version 0 to %d (%d applied", last.Version, n)},
		{[]string{"migrate", "up"}, 0, fmt.Sprintf("no change: the schema is at version %d", last.Version)},
		{[]string{"migrate", "up", "extra"}, 2, "unexpected arguments"},
		{[]string{"migrate", "down"}, 2, "migrate down needs N"},
		{[]string{"migrate", "down", "0"}, 2, "at least 1"},
		{[]string{"migrate", "down", "999"}, 1, fmt.Sprintf("asked to roll back 999 migrations, but only %d are applied", n)},
		{[]string{"migrate", "status"}, 0, "pending:  none"},
		{[]string{"migrate", "status"}, 0, ", pending none\n"},
		{[]string{"migrate", "down", "1"}, 0, fmt.Sprintf("the schema is at version %d", prev.Version)},
		{[]string{"migrate", "status"}, 0, fmt.Sprintf("pending:  %06d_%s", last.Version, last.Title)},
		{[]string{"migrate", "force", "x"}, 2, "V must be a version number, or none"},
		{[]string{"migrate", "force", "42"}, 1, "no migration has version 42"},
		{[]string{"migrate", "force", "0"}, 1, "no migration has version 0"},
		{[]string{"migrate", "force", "-2"}, 1, "no migration has version -2"},
		{[]string{"migrate", "down", "-1"}, 2, "at least 1"},
		{[]string{"migrate", "force", fmt.Sprint(last.Version)}, 0, fmt.Sprintf("recorded version %d", last.Version)},
		{[]string{"check"}, 0, "sqlite (embedded mode"},
		{[]string{"version"}, 0, "go:"},
		{[]string{"config"}, 0, "DATA_DIR=" + env["DATA_DIR"]},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, stderr := admin(t, env, tt.args...)
			got := stdout
			if tt.wantCode != 0 {
				got = stderr
			}
			if code != tt.wantCode || !strings.Contains(got, tt.wantOut) {
				t.Errorf("admin %q = exit %d\nstdout: %s\nstderr: %s\nwant exit %d with %q", tt.args, code, stdout, stderr, tt.wantCode, tt.wantOut)
			}
		})
	}
}

func TestEveryCommandHasHelp(t *testing.T) {
	for name, cmd := range commands() {
		args := append(strings.Fields(name), "--help")
		code, _, stderr := admin(t, nil, args...)
		if code != 0 || !strings.Contains(stderr, "usage: admin "+name) || !strings.Contains(stderr, cmd.help[:20]) {
			t.Errorf("admin %s --help = exit %d, %q; want exit 0 and its usage", name, code, stderr)
		}
	}
}

func TestConfigMasksSecrets(t *testing.T) {
	const password = "very-s3cret"
	env := map[string]string{
		"DATABASE_URL": "postgres://app:" + password + "@db.example:5432/app?sslmode=require",
		"REDIS_URL":    "rediss://:" + password + "@redis.example:6380",
	}
	code, stdout, _ := admin(t, env, "config")
	if code != 0 || strings.Contains(stdout, password) || !strings.Contains(stdout, "DATABASE_URL=postgres://app:xxxxx@db.example:5432/app") {
		t.Errorf("admin config = exit %d\n%s\nwant the URLs with their passwords masked", code, stdout)
	}
	code, _, stderr := admin(t, map[string]string{"DATABASE_URL": "mysql://u:" + password + "@h/db"}, "config")
	if code != 1 || strings.Contains(stderr, password) || !strings.Contains(stderr, "DATABASE_URL") {
		t.Errorf("admin config (bad URL) = exit %d, %q; want exit 1 naming DATABASE_URL without the password", code, stderr)
	}
}

func TestCheckReportsDown(t *testing.T) {
	env := map[string]string{
		"DATA_DIR":  t.TempDir(),
		"REDIS_URL": "redis://:pw-hidden@127.0.0.1:1/0",
	}
	code, stdout, stderr := admin(t, env, "check")
	if code != 1 || !strings.Contains(stdout, "redis: down") || !strings.Contains(stdout, "sqlite (embedded mode") ||
		strings.Contains(stdout+stderr, "pw-hidden") {
		t.Errorf("admin check (redis down) = exit %d\nstdout: %s\nstderr: %s\nwant exit 1 reporting redis down", code, stdout, stderr)
	}
}

func TestMigrateCreate(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"postgres", "sqlite"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
		os.WriteFile(filepath.Join(dir, d, "000003_old.up.sql"), nil, 0o644)
		os.WriteFile(filepath.Join(dir, d, "000003_old.down.sql"), nil, 0o644)
	}
	tests := []struct {
		name     string
		wantCode int
	}{
		{"add_owner", 0},
		{"Add-Owner", 2},
		{"add__owner", 2},
	}
	for _, tt := range tests {
		code, _, stderr := admin(t, nil, "migrate", "create", "-dir", dir, tt.name)
		if code != tt.wantCode {
			t.Errorf("admin migrate create %s = exit %d (%s), want %d", tt.name, code, stderr, tt.wantCode)
		}
	}
	if code, _, stderr := admin(t, nil, "migrate", "create", "-dir", dir, "-shared", "add_notes"); code != 0 {
		t.Errorf("admin migrate create -shared add_notes = exit %d (%s), want 0", code, stderr)
	}
	// Versions 4 to 11 are skipped: earlier releases recorded River's
	// tables under them.
	for _, f := range []string{"postgres/000012_add_owner.up.sql", "postgres/000012_add_owner.down.sql",
		"sqlite/000012_add_owner.up.sql", "sqlite/000012_add_owner.down.sql",
		"shared/000013_add_notes.up.sql", "shared/000013_add_notes.down.sql"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("migrate create did not write %s: %v", f, err)
		}
	}
}

// TestMigratePostgres runs two "admin migrate up" at once on a database of
// the test's own, then walks through a dirty database's recovery.
func TestMigratePostgres(t *testing.T) {
	u := pgtest.NewDatabase(t)
	env := map[string]string{"DATABASE_URL": u.Value(), "LOG_LEVEL": "warn", "MIGRATION_LOCK_TIMEOUT": "5s"}

	var wg sync.WaitGroup
	outs := make([]string, 2)
	for i := range outs {
		wg.Go(func() {
			code, stdout, stderr := admin(t, env, "migrate", "up")
			if code != 0 {
				t.Errorf("concurrent admin migrate up = exit %d: %s", code, stderr)
			}
			outs[i] = stdout
		})
	}
	wg.Wait()
	both := strings.Join(outs, "")
	ms := versions(t, migrations.Postgres)
	last, prev := ms[len(ms)-1], ms[len(ms)-2]
	if strings.Count(both, fmt.Sprintf("migrated from version 0 to %d", last.Version)) != 1 || strings.Count(both, "no change: the schema") != 1 ||
		strings.Count(both, "river: migrated from version 0") != 1 || strings.Count(both, "river: no change") != 1 {
		t.Errorf("two concurrent admin migrate up printed %q, want one migration and one no change", outs)
	}

	// Make the database dirty as a failed last migration would leave it.
	conn, err := pgx.Connect(t.Context(), u.Value())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), "UPDATE schema_migrations SET dirty = true"); err != nil {
		t.Fatal(err)
	}
	code, stdout, _ := admin(t, env, "migrate", "status")
	if code != 1 || !strings.Contains(stdout, "dirty:    yes") || !strings.Contains(stdout, fmt.Sprintf("admin migrate force %d", prev.Version)) {
		t.Errorf("admin migrate status (dirty) = exit %d\n%s\nwant exit 1 with the recovery steps", code, stdout)
	}
	if code, _, stderr := admin(t, env, "migrate", "up"); code != 1 || !strings.Contains(stderr, "dirty") {
		t.Errorf("admin migrate up (dirty) = exit %d, %s; want a refusal", code, stderr)
	}
	if code, _, stderr := admin(t, env, "migrate", "force", fmt.Sprint(last.Version)); code != 0 {
		t.Errorf("admin migrate force %d = exit %d, %s", last.Version, code, stderr)
	}
	if code, stdout, _ := admin(t, env, "migrate", "status"); code != 0 || !strings.Contains(stdout, "dirty:    no") {
		t.Errorf("admin migrate status (recovered) = exit %d\n%s", code, stdout)
	}
	if code, stdout, _ := admin(t, env, "check"); code != 0 || !strings.Contains(stdout, "postgres: ok") {
		t.Errorf("admin check = exit %d\n%s", code, stdout)
	}
}

// TestDirtyFirstMigrationRecovery follows, command by command as printed,
// the steps "admin migrate status" gives when the first migration failed
// and changed nothing; a version no migration has is refused and changes
// nothing.
func TestDirtyFirstMigrationRecovery(t *testing.T) {
	env := map[string]string{"DATA_DIR": t.TempDir(), "LOG_LEVEL": "warn"}
	ms := versions(t, migrations.SQLite)
	last := ms[len(ms)-1]
	if code, _, stderr := admin(t, env, "migrate", "up"); code != 0 {
		t.Fatalf("admin migrate up = exit %d: %s", code, stderr)
	}
	if code, _, stderr := admin(t, env, "migrate", "down", fmt.Sprint(len(ms))); code != 0 {
		t.Fatalf("admin migrate down %d = exit %d: %s", len(ms), code, stderr)
	}
	// The first migration failed: nothing of it is there, and the flag is set.
	db, err := sqlite.Open(t.Context(), env["DATA_DIR"])
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("DELETE FROM schema_migrations; INSERT INTO schema_migrations (version, dirty) VALUES (1, true)"); err != nil {
		t.Fatal(err)
	}

	for _, v := range []string{"0", "12345"} {
		if code, _, stderr := admin(t, env, "migrate", "force", v); code != 1 || !strings.Contains(stderr, "no migration has version "+v) {
			t.Errorf("admin migrate force %s = exit %d, %s; want a refusal", v, code, stderr)
		}
	}
	code, stdout, _ := admin(t, env, "migrate", "status")
	if code != 1 || !strings.Contains(stdout, "dirty:    yes") {
		t.Fatalf("admin migrate status = exit %d\n%s\nwant exit 1, dirty (the refused forces changed nothing)", code, stdout)
	}
	// The first of the two cases: the migration changed nothing.
	steps := regexp.MustCompile(`(?m)^ +admin (migrate force .+)\n +admin (migrate up)$`).FindStringSubmatch(stdout)
	if steps == nil {
		t.Fatalf("admin migrate status printed no steps to force and migrate up:\n%s", stdout)
	}
	if steps[1] != "migrate force none" {
		t.Errorf("the steps for the first migration say %q, want migrate force none", steps[1])
	}
	for _, step := range steps[1:] {
		if code, stdout, stderr := admin(t, env, strings.Fields(step)...); code != 0 {
			t.Fatalf("admin %s (as printed) = exit %d\n%s%s", step, code, stdout, stderr)
		}
	}
	if code, stdout, _ := admin(t, env, "migrate", "status"); code != 0 || !strings.Contains(stdout, fmt.Sprintf("version:  %d", last.Version)) || !strings.Contains(stdout, "dirty:    no") {
		t.Errorf("admin migrate status after the steps = exit %d\n%s\nwant clean at %d", code, stdout, last.Version)
	}

	// -1, as earlier steps wrote it, is none too.
	if _, err := db.Exec("UPDATE schema_migrations SET dirty = true"); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := admin(t, env, "migrate", "force", "-1"); code != 0 || !strings.Contains(stdout, "no migration is applied") {
		t.Errorf("admin migrate force -1 = exit %d\n%s%s", code, stdout, stderr)
	}
}
