package schema

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"

	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/dozen-go/dozen/migrations"
)

// River's tables are applied by River's migrator, on the same drivers the
// job queue uses (package jobs): riverdatabasesql on Postgres, riversqlite
// on SQLite.
//
// Earlier releases of the template applied River's versions 1 to 8
// through golang-migrate files of their own, versions 4 to 11
// (migrations.RetiredFirst to RetiredLast), which recorded nothing in
// river_migration. A database they migrated has River's tables and an
// empty river_migration; adopt records those versions there, so that
// River's migrator sees them as applied and does not create the tables
// again.
const (
	retiredFirst = migrations.RetiredFirst // held River's version 1
	retiredLast  = migrations.RetiredLast  // held River's version 8
)

// retired reports whether v is a golang-migrate version that held one of
// River's versions in earlier releases.
func retired(v uint) bool { return v >= retiredFirst && v <= retiredLast }

// newRiver returns River's migrator on db. log receives its progress; nil
// discards it.
func newRiver(db *sql.DB, dialect string, log *slog.Logger) (*rivermigrate.Migrator[*sql.Tx], error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg := &rivermigrate.Config{Logger: log}
	var (
		rm  *rivermigrate.Migrator[*sql.Tx]
		err error
	)
	switch dialect {
	case migrations.Postgres:
		rm, err = rivermigrate.New(riverdatabasesql.New(db), cfg)
	case migrations.SQLite:
		rm, err = rivermigrate.New(riversqlite.New(db), cfg)
	default:
		return nil, fmt.Errorf("no River migrator for dialect %q", dialect)
	}
	if err != nil {
		return nil, fmt.Errorf("new River migrator: %w", err)
	}
	return rm, nil
}

// RiverStatus is River's part of a database's schema compared with
// River's migrations in this build.
type RiverStatus struct {
	// Version is the highest of River's versions applied, 0 for none.
	Version int
	// Latest is the highest of River's versions in this build.
	Latest int
	// Pending lists River's versions not applied.
	Pending []int
	// Unrecorded counts River's versions, from 1, that an earlier
	// release's migration files applied without recording them in
	// river_migration. The next Up records them (adopt); until then they
	// are also in Pending.
	Unrecorded int
}

// Current reports whether every River version of this build is applied
// and recorded.
func (s RiverStatus) Current() bool { return len(s.Pending) == 0 }

// RiverResult is what Up did to River's part.
type RiverResult struct {
	From, To int // River's versions before and after
	// Applied counts River's versions applied by this call.
	Applied int
	// Recorded counts River's versions that an earlier release's
	// migration files had applied and this call recorded.
	Recorded int
}

// riverStatus reads River's part of db's schema; service is the
// service's version, which tells how far an earlier release's files went.
func riverStatus(ctx context.Context, db *sql.DB, dialect string, rm *rivermigrate.Migrator[*sql.Tx], service uint) (RiverStatus, error) {
	all := rm.AllVersions()
	s := RiverStatus{Latest: all[len(all)-1].Version}
	existing, err := rm.ExistingVersions(ctx)
	if err != nil {
		// ExistingVersions fails on a version this build's River does not
		// have, as a newer release's River may have applied. Validate
		// tells whether every version this build has is applied.
		v, verr := rm.Validate(ctx, nil)
		if verr != nil || !v.OK {
			return RiverStatus{}, fmt.Errorf("read River's schema version: %w", err)
		}
		s.Version = s.Latest
		return s, nil
	}
	applied := map[int]bool{}
	for _, e := range existing {
		applied[e.Version] = true
		s.Version = max(s.Version, e.Version)
	}
	if len(existing) == 0 {
		if s.Unrecorded, err = unrecorded(ctx, db, dialect, service); err != nil {
			return RiverStatus{}, err
		}
	}
	for _, m := range all {
		if !applied[m.Version] {
			s.Pending = append(s.Pending, m.Version)
		}
	}
	return s, nil
}

// unrecorded counts River's versions that an earlier release's migration
// files applied to a database whose river_migration records none: the
// table exists, so version 1 at least was applied, and the service's
// version says how far the files went.
func unrecorded(ctx context.Context, db *sql.DB, dialect string, service uint) (int, error) {
	ok, err := tableExists(ctx, db, dialect, "river_migration")
	if err != nil {
		return 0, fmt.Errorf("read River's schema version: %w", err)
	}
	switch {
	case !ok:
		return 0, nil
	case retired(service):
		return int(service) - retiredFirst + 1, nil
	case service > retiredLast:
		return retiredLast - retiredFirst + 1, nil
	}
	return 0, fmt.Errorf("river_migration exists but records no River version, and the service's schema is at version %d, below the migration files that created it (%d to %d)", service, retiredFirst, retiredLast)
}

// adopt records in river_migration the River versions that an earlier
// release's migration files applied (see RiverStatus.Unrecorded), and
// returns how many. When the service's version is one of those files', it
// becomes the version before them, which this build has: those files are
// River's versions now. Both changes are made in one transaction. It runs
// holding the run lock; a dirty database is left to the service's
// migrator to report.
func (m *Migrator) adopt(ctx context.Context) (int, error) {
	s, err := m.Status(ctx)
	if err != nil || s.Dirty || s.River.Unrecorded == 0 {
		return 0, err
	}
	n := s.River.Unrecorded
	// River's version 5 added the line column.
	insert := "INSERT INTO river_migration (version) VALUES ($1)"
	if n >= 5 {
		insert = "INSERT INTO river_migration (line, version) VALUES ('main', $1)"
	}
	tx, err := m.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("record River's versions: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	for v := 1; v <= n; v++ {
		if _, err := tx.ExecContext(ctx, insert, v); err != nil {
			return 0, fmt.Errorf("record River's versions: %w", err)
		}
	}
	if retired(s.Version) {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("UPDATE %s SET version = %d", table, retiredFirst-1)); err != nil {
			return 0, fmt.Errorf("record River's versions: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("record River's versions: %w", err)
	}
	if m.log != nil {
		m.log.Info("River's versions applied by an earlier release's migration files recorded in river_migration", "river_versions", n)
	}
	return n, nil
}
