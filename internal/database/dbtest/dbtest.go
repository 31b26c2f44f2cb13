// Package dbtest gives each test a fresh database of either dialect,
// migrated with the real migrations as a release migrates it: SQLite in
// the test's temporary directory, or a Postgres database of its own on the
// server pgtest names, dropped when the test ends.
package dbtest

import (
	"testing"
	"time"

	"github.com/dozen-go/dozen/internal/config"
	"github.com/dozen-go/dozen/internal/database"
	"github.com/dozen-go/dozen/internal/postgres/pgtest"
	"github.com/dozen-go/dozen/migrations"
)

// Migrated makes a fresh database of the dialect (migrations.Postgres or
// migrations.SQLite), applies every migration through a migrator of its
// own, and returns the settings that reach it. Without a Postgres server
// the test skips, or fails under REQUIRE_INTEGRATION_TESTS.
func Migrated(t testing.TB, dialect string) config.Database {
	t.Helper()
	cfg := config.Database{
		DataDir:              t.TempDir(),
		MaxConns:             4, // a transaction holding a lock, and the ones it holds up
		ConnectAttempts:      1,
		ConnectTimeout:       5 * time.Second,
		MigrationLockTimeout: 5 * time.Second,
	}
	switch dialect {
	case migrations.Postgres:
		cfg.URL = pgtest.NewDatabase(t)
	case migrations.SQLite:
	default:
		t.Fatalf("dbtest: no dialect %q", dialect)
	}
	m, err := database.OpenMigrator(t.Context(), cfg, nil)
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	defer m.Close()
	if _, err := m.Up(t.Context()); err != nil {
		t.Fatalf("dbtest: migrate %s: %v", dialect, err)
	}
	return cfg
}

// Open returns a fresh, migrated database of the dialect, as Migrated
// makes it, open for queries until the test ends.
func Open(t testing.TB, dialect string) *database.DB {
	t.Helper()
	db, err := database.Open(t.Context(), Migrated(t, dialect), nil, nil)
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
