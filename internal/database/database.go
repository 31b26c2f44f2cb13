// Package database attaches the SQL database the configuration names:
// Postgres when DATABASE_URL is set, else the embedded SQLite file. Both
// processes, web and admin, open it here, so they always agree on which
// database and which migrations they use.
package database

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"

	"github.com/XSAM/otelsql"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/dozen-go/dozen/internal/config"
	"github.com/dozen-go/dozen/internal/postgres"
	"github.com/dozen-go/dozen/internal/schema"
	"github.com/dozen-go/dozen/internal/sqlite"
	"github.com/dozen-go/dozen/migrations"
)

// DB is the open database.
type DB struct {
	// SQL is the handle queries go through.
	SQL *sql.DB
	// Dialect is migrations.Postgres or migrations.SQLite.
	Dialect string
	pg      *postgres.DB // nil in embedded mode
}

// Open opens the configured database. Postgres is given
// cfg.ConnectAttempts tries to answer before Open gives up. With a tracer,
// every query made through DB.SQL is traced; nil traces nothing.
func Open(ctx context.Context, cfg config.Database, log *slog.Logger, tracer trace.TracerProvider) (*DB, error) {
	if cfg.Embedded() {
		db, err := sqlite.Open(ctx, cfg.DataDir, sqlTracing(tracer, semconv.DBSystemNameSQLite)...)
		if err != nil {
			return nil, err
		}
		return &DB{SQL: db, Dialect: migrations.SQLite}, nil
	}
	pg, err := postgres.Open(ctx, cfg.URL, postgres.Options{
		MaxConns:       cfg.MaxConns,
		Attempts:       cfg.ConnectAttempts,
		ConnectTimeout: cfg.ConnectTimeout,
		Log:            log,
		Tracing:        sqlTracing(tracer, semconv.DBSystemNamePostgreSQL),
	})
	if err != nil {
		return nil, err
	}
	return &DB{SQL: pg.SQL, Dialect: migrations.Postgres, pg: pg}, nil
}

// sqlTracing returns the options that trace queries with tracer, or nil
// when tracer is nil. A query gets a span only inside a span of its own
// process: a request's or a job's. The queue's polling and the metrics'
// scrapes, which run outside any, would otherwise start a trace of their
// own every second. The statement's text is recorded, its parameters
// never; spans of each row read and of session resets would only bury the
// query spans.
func sqlTracing(tracer trace.TracerProvider, system attribute.KeyValue) []otelsql.Option {
	if tracer == nil {
		return nil
	}
	return []otelsql.Option{
		otelsql.WithTracerProvider(tracer),
		otelsql.WithAttributes(system),
		otelsql.WithSpanOptions(otelsql.SpanOptions{
			OmitRows:             true,
			OmitConnResetSession: true,
			SpanFilter: func(ctx context.Context, _ otelsql.Method, _ string, _ []driver.NamedValue) bool {
				return trace.SpanContextFromContext(ctx).IsValid()
			},
		}),
	}
}

// Path returns where the embedded database lives, for messages.
func Path(cfg config.Database) string {
	return filepath.Join(cfg.DataDir, sqlite.FileName)
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if db.pg != nil {
		return db.pg.Ping(ctx)
	}
	if err := db.SQL.PingContext(ctx); err != nil {
		return fmt.Errorf("ping sqlite: %w", err)
	}
	return nil
}

// Collector returns the Postgres pool's metrics, or nil in embedded mode.
func (db *DB) Collector() prometheus.Collector {
	if db.pg == nil {
		return nil
	}
	return postgres.Collector(db.pg.Pool)
}

// Close closes the database.
func (db *DB) Close() error {
	if db.pg != nil {
		return db.pg.Close()
	}
	return db.SQL.Close()
}

// Migrations returns the migrations of the configured database's dialect.
func Migrations(cfg config.Database) (fs.FS, string, error) {
	dialect := migrations.Postgres
	if cfg.Embedded() {
		dialect = migrations.SQLite
	}
	src, err := migrations.FS(dialect)
	return src, dialect, err
}

// OpenMigrator opens the configured database for migrating, on a
// connection of its own with MIGRATION_LOCK_TIMEOUT as its lock timeout.
// Close the Migrator when done.
func OpenMigrator(ctx context.Context, cfg config.Database, log *slog.Logger) (*schema.Migrator, error) {
	return OpenMigratorFS(ctx, cfg, nil, log)
}

// OpenMigratorFS is OpenMigrator with the migrations in src instead of the
// embedded ones, for tests; nil means the embedded ones.
func OpenMigratorFS(ctx context.Context, cfg config.Database, src fs.FS, log *slog.Logger) (*schema.Migrator, error) {
	embedded, dialect, err := Migrations(cfg)
	if err != nil {
		return nil, err
	}
	if src == nil {
		src = embedded
	}
	var db *sql.DB
	if cfg.Embedded() {
		db, err = sqlite.Open(ctx, cfg.DataDir)
	} else {
		db, err = postgres.OpenMigrationDB(cfg.URL, cfg.MigrationLockTimeout, cfg.ConnectTimeout)
	}
	if err != nil {
		return nil, err
	}
	m, err := schema.New(db, dialect, src, cfg.MigrationLockTimeout, log)
	if err != nil {
		db.Close()
		return nil, err
	}
	return m, nil
}

// OpenChecked opens the configured database and makes sure its schema,
// the service's and River's, is one this build can serve; every
// long-running process starts with it. Only the embedded database is
// migrated here, under the migration lock, so that processes started
// together on a fresh file wait for one another; Postgres is migrated by
// the release step (admin migrate up), and a schema older than this build
// needs stops the start with that advice. The tracer is Open's.
func OpenChecked(ctx context.Context, cfg config.Database, log *slog.Logger, tracer trace.TracerProvider) (*DB, error) {
	if cfg.Embedded() {
		log.Warn("embedded mode: no DATABASE_URL, so data goes to an SQLite file on this machine; "+
			"replicas cannot share it and most platforms lose it on restart. Production needs DATABASE_URL",
			"path", Path(cfg))
		m, err := OpenMigrator(ctx, cfg, log)
		if err != nil {
			return nil, err
		}
		res, err := m.Up(ctx)
		if cerr := m.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, err
		}
		if res.Changed() {
			log.Info("embedded database migrated", "from", res.From, "to", res.To,
				"river_from", res.River.From, "river_to", res.River.To)
		}
	} else {
		log.Info("connecting to postgres", "url", cfg.URL)
	}

	db, err := Open(ctx, cfg, log, tracer)
	if err != nil {
		return nil, err
	}
	src, dialect, err := Migrations(cfg)
	if err != nil {
		db.Close()
		return nil, err
	}
	st, err := schema.Check(ctx, db.SQL, dialect, src)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("check schema: %w", err)
	}
	log.Info("database ready", "dialect", dialect, "schema_version", st.Version, "build_needs", st.Latest,
		"river_version", st.River.Version, "river_build_needs", st.River.Latest)
	return db, nil
}
