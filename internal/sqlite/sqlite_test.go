package sqlite

import (
	"os"
	"path/filepath"
	"testing"
)

func TestOpenCreatesFileWithWAL(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "data")
	db, err := Open(t.Context(), dir)
	if err != nil {
		t.Fatalf("Open(%s) = %v", dir, err)
	}
	defer db.Close()
	if _, err := os.Stat(filepath.Join(dir, FileName)); err != nil {
		t.Errorf("database file: %v", err)
	}
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	if _, err := db.Exec("CREATE TABLE t (k TEXT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO t VALUES ($1)", "a"); err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec("INSERT INTO t VALUES ($1)", "a")
	if !IsUniqueViolation(err) || IsUnavailable(err) {
		t.Errorf("duplicate insert: IsUniqueViolation(%v) = %v, IsUnavailable = %v; want true, false", err, IsUniqueViolation(err), IsUnavailable(err))
	}
}

func TestOpenFailsOnUnusableDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if db, err := Open(t.Context(), file); err == nil {
		db.Close()
		t.Errorf("Open(a regular file as DATA_DIR) = nil error, want one")
	}
}
