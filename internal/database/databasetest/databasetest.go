// Package databasetest gives a test a database of its own: the embedded
// SQLite file, migrated as the processes migrate it, which goes when the
// test ends. A building block for a feature's handler tests; the store's
// and the jobs' own tests also run on Postgres (pgtest).
package databasetest

import (
	"log/slog"
	"testing"

	"github.com/dozen-go/dozen/internal/config"
	"github.com/dozen-go/dozen/internal/database"
)

// Open returns an embedded database in a directory of the test's own,
// with every migration applied; it is closed when the test ends.
func Open(t testing.TB) *database.DB {
	t.Helper()
	db, err := database.OpenChecked(t.Context(), config.Database{DataDir: t.TempDir()}, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
