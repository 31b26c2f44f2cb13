package migrations

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

func TestEmbeddedMigrationsAreWellFormed(t *testing.T) {
	if err := checkDialects(files); err != nil {
		t.Fatalf("checkDialects(embedded migrations) = %v, want nil", err)
	}
	for _, d := range Dialects() {
		dir, err := FS(d)
		if err != nil {
			t.Fatal(err)
		}
		if v, err := Latest(dir); err != nil || v == 0 {
			t.Errorf("Latest(%s) = %d, %v, want a version above 0", d, v, err)
		}
	}
}

func TestListRejects(t *testing.T) {
	sql := &fstest.MapFile{Data: []byte("SELECT 1;")}
	tests := []struct {
		name  string
		files []string
		want  string // in the error
	}{
		{"ok", []string{"000001_a.up.sql", "000001_a.down.sql"}, ""},
		{"misnamed: one dot", []string{"000001_a.up.sql", "000001_a.down.sql", "000002_b_up.sql"}, "000002_b_up.sql: not a migration file"},
		{"misnamed: short version", []string{"1_a.up.sql", "1_a.down.sql"}, "1_a.up.sql: not a migration file"},
		{"misnamed: capitals", []string{"000001_Add.up.sql", "000001_Add.down.sql"}, "not a migration file"},
		{"misnamed: wrong extension", []string{"000001_a.up.sql", "000001_a.down.sql", "000002_b.up.psql"}, "000002_b.up.psql: not a migration file"},
		{"duplicate version", []string{"000001_a.up.sql", "000001_a.down.sql", "000001_b.up.sql", "000001_b.down.sql"}, "version 000001 is also used"},
		{"up without down", []string{"000001_a.up.sql"}, "up without down"},
		{"down without up", []string{"000001_a.down.sql"}, "down without up"},
		{"version zero", []string{"000000_a.up.sql", "000000_a.down.sql"}, "version 0 is reserved"},
		{"a version River's tables had", []string{"000004_a.up.sql", "000004_a.down.sql"}, "versions 4 to 11 are reserved"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for _, f := range tt.files {
				fsys[f] = sql
			}
			_, err := List(fsys)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("List(%q) = %v, want nil", tt.files, err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("List(%q) = %v, want an error containing %q", tt.files, err, tt.want)
			}
		})
	}
}

func TestCheckDialectsAgree(t *testing.T) {
	sql := &fstest.MapFile{Data: []byte("SELECT 1;")}
	fsys := fstest.MapFS{
		"postgres/000001_a.up.sql": sql, "postgres/000001_a.down.sql": sql,
		"postgres/000002_b.up.sql": sql, "postgres/000002_b.down.sql": sql,
		"sqlite/000001_a.up.sql": sql, "sqlite/000001_a.down.sql": sql,
	}
	if err := checkDialects(fsys); err == nil || !strings.Contains(err.Error(), "sqlite: versions or titles differ") {
		t.Errorf("checkDialects(sqlite behind postgres) = %v, want a dialect mismatch", err)
	}
}

// checkDialects lists every dialect's migrations (its directory and
// shared/) in root and checks that the dialects agree on versions and
// titles, so no database falls behind another.
func checkDialects(root fs.FS) error {
	var first []Migration
	var errs []error
	for i, d := range Dialects() {
		dir, err := Overlay(root, d)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		list, err := List(dir)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", d, err))
			continue
		}
		if i == 0 {
			first = list
			continue
		}
		if !slices.Equal(first, list) {
			errs = append(errs, fmt.Errorf("%s: versions or titles differ from %s", d, Dialects()[0]))
		}
	}
	return errors.Join(errs...)
}

func TestSharedMigrations(t *testing.T) {
	sql := &fstest.MapFile{Data: []byte("SELECT 1;")}
	fsys := fstest.MapFS{
		"postgres/000001_a.up.sql": sql, "postgres/000001_a.down.sql": sql,
		"sqlite/000001_a.up.sql": sql, "sqlite/000001_a.down.sql": sql,
		"shared/000002_b.up.sql": sql, "shared/000002_b.down.sql": sql,
	}
	if err := checkDialects(fsys); err != nil {
		t.Fatalf("checkDialects(a per dialect, b shared) = %v, want nil", err)
	}
	dir, err := Overlay(fsys, Postgres)
	if err != nil {
		t.Fatal(err)
	}
	if list, err := List(dir); err != nil || len(list) != 2 || list[1] != (Migration{2, "b"}) {
		t.Errorf("List(postgres and shared) = %v, %v; want versions 1 and 2", list, err)
	}
	if b, err := fs.ReadFile(dir, "000002_b.up.sql"); err != nil || string(b) != "SELECT 1;" {
		t.Errorf("ReadFile(shared migration) = %q, %v", b, err)
	}
	fsys["sqlite/000002_b.up.sql"] = sql
	if _, err := Overlay(fsys, SQLite); err == nil || !strings.Contains(err.Error(), "in both") {
		t.Errorf("Overlay(a version in sqlite/ and shared/) = %v, want an error naming both", err)
	}
}
