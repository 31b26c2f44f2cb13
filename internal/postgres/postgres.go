// Package postgres attaches a PostgreSQL database (factor IV) through pgx:
// a connection pool whose statistics are exported as metrics, a bounded
// wait for a database that is still starting, and the classification of
// its errors that the store needs.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"strconv"
	"time"

	"github.com/XSAM/otelsql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/dozen-go/dozen/internal/config"
)

// DB is an open Postgres database: a pgx pool and a database/sql handle
// over the same pool. Close it once, after its last use.
type DB struct {
	// Pool is the connection pool; its statistics feed Collector.
	Pool *pgxpool.Pool
	// SQL is a database/sql view of Pool, for code that is written once for
	// every SQL database the service supports.
	SQL *sql.DB
}

// Options bounds how the pool connects.
type Options struct {
	MaxConns int
	// Attempts is how many times Open tries to reach the server, each
	// attempt allowed ConnectTimeout, with a growing pause between them.
	Attempts       int
	ConnectTimeout time.Duration
	// Log receives one line per failed attempt. Nil logs nothing.
	Log *slog.Logger
	// Tracing, when not nil, traces the queries made through DB.SQL as
	// its options say.
	Tracing []otelsql.Option
}

// Open connects to the database at u, retrying while it does not answer,
// and returns once a connection works. URLs as Heroku sets them work
// unchanged: without sslmode, pgx tries TLS first, which Heroku requires.
//
// Its errors name the host and database but never the password.
func Open(ctx context.Context, u config.URL, o Options) (*DB, error) {
	pc, err := pgxpool.ParseConfig(u.Value())
	if err != nil {
		return nil, fmt.Errorf("open postgres: DATABASE_URL: %w", err)
	}
	pc.MaxConns = int32(min(max(o.MaxConns, 1), math.MaxInt32))
	pc.ConnConfig.ConnectTimeout = o.ConnectTimeout
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if err := connect(ctx, pool, o); err != nil {
		pool.Close()
		return nil, err
	}
	if o.Tracing == nil {
		return &DB{Pool: pool, SQL: stdlib.OpenDBFromPool(pool)}, nil
	}
	return &DB{Pool: pool, SQL: otelsql.OpenDB(stdlib.GetPoolConnector(pool), o.Tracing...)}, nil
}

// connect pings until the server answers, at most o.Attempts times.
func connect(ctx context.Context, pool *pgxpool.Pool, o Options) error {
	err := Retry(ctx, o.Attempts, o.Log, "postgres not reachable; retrying", nil, func(ctx context.Context) error {
		return pingWithin(ctx, pool, o.ConnectTimeout)
	})
	if err != nil {
		return fmt.Errorf("connect to postgres: %w", err)
	}
	return nil
}

// Retry calls fn until it succeeds, at most attempts times, with a
// pause growing from 250ms to 5s between calls: the bound a process
// waits for Postgres at start (DATABASE_CONNECT_ATTEMPTS). It stops
// early when ctx ends, or when retryable (nil: any error) says an error
// is final. Each failure that is retried is logged as msg at warning
// level (nil log: not logged). Its error is the last call's, saying how
// many attempts were made when more than one.
func Retry(ctx context.Context, attempts int, log *slog.Logger, msg string, retryable func(error) bool, fn func(context.Context) error) error {
	attempts = max(attempts, 1)
	pause := 250 * time.Millisecond
	var err error
	i := 1
	for ; ; i++ {
		err = fn(ctx)
		if err == nil {
			return nil
		}
		if i == attempts || ctx.Err() != nil || (retryable != nil && !retryable(err)) {
			break
		}
		if log != nil {
			log.Warn(msg, "attempt", i, "of", attempts, "retry_in", pause, "error", err.Error())
		}
		select {
		case <-time.After(pause):
		case <-ctx.Done():
		}
		pause = min(2*pause, 5*time.Second)
	}
	if i == 1 {
		return err
	}
	return fmt.Errorf("gave up after %d attempts: %w", i, err)
}

func pingWithin(ctx context.Context, pool *pgxpool.Pool, d time.Duration) error {
	if d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	return pool.Ping(ctx)
}

// Ping checks that the database answers a query.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.Pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping postgres: %w", err)
	}
	return nil
}

// Close closes the database/sql handle and then the pool, waiting for
// connections in use to be released.
func (db *DB) Close() error {
	err := db.SQL.Close()
	db.Pool.Close()
	return err
}

// OpenMigrationDB opens the connection that migrations run on. Postgres'
// lock_timeout is set on it, so a migrator that waits for another one's
// advisory lock gives up after lockTimeout on the server's side: the wait
// ends in the server, and no lock can be granted later to a client that
// has stopped waiting. The same timeout keeps a migration's DDL from
// queueing behind long transactions while blocking every other query.
func OpenMigrationDB(u config.URL, lockTimeout, connectTimeout time.Duration) (*sql.DB, error) {
	cc, err := pgx.ParseConfig(u.Value())
	if err != nil {
		return nil, fmt.Errorf("open postgres: DATABASE_URL: %w", err)
	}
	cc.ConnectTimeout = connectTimeout
	cc.RuntimeParams["lock_timeout"] = strconv.FormatInt(max(lockTimeout.Milliseconds(), 1), 10)
	return stdlib.OpenDB(*cc), nil
}

// IsUniqueViolation reports whether err is a unique constraint violation.
func IsUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// IsLockTimeout reports whether err is Postgres giving up waiting for a
// lock (lock_timeout).
func IsLockTimeout(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "55P03"
}

// IsUnavailable reports whether err means the database could not be
// reached or dropped the connection, rather than that the query was wrong:
// a failed connect, a broken network connection, or the server shutting
// down or terminating the session.
func IsUnavailable(err error) bool {
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Class 08: connection exception; 57P01-57P05: the server is
		// shutting down or terminated the session; 53300: too many
		// connections.
		return pe.Code[:2] == "08" || (pe.Code >= "57P01" && pe.Code <= "57P05") || pe.Code == "53300"
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, net.ErrClosed) {
		return true
	}
	// A connection that died mid-query: pgx reports it as a closed or
	// unexpected-EOF connection, and database/sql as a bad connection.
	if pgconn.SafeToRetry(err) || errors.Is(err, sql.ErrConnDone) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return true
	}
	// pgx's error for a query on a connection it has already closed has
	// no exported sentinel.
	for e := err; e != nil; e = errors.Unwrap(e) {
		if e.Error() == "conn closed" {
			return true
		}
	}
	return false
}
