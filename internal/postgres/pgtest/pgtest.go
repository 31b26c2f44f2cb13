// Package pgtest gives each integration test its own Postgres database on
// the server named by TEST_DATABASE_URL, and drops it when the test ends.
// The shared server is never stopped or reconfigured beyond that database.
package pgtest

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dozen-go/dozen/internal/config"
	"github.com/dozen-go/dozen/internal/integration"
)

// Variable names the server to test against, e.g.
// postgres://postgres@127.0.0.1:5432/postgres.
const Variable = "TEST_DATABASE_URL"

// NewDatabase creates an empty database named test_<random> and
// returns its URL. Cleanup terminates its sessions and drops it.
func NewDatabase(t testing.TB) config.URL {
	t.Helper()
	server := os.Getenv(Variable)
	if server == "" {
		integration.Skip(t, Variable, "postgres://postgres@127.0.0.1:5432/postgres")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatalf("pgtest: connect to %s: %v", Variable, err)
	}
	defer admin.Close(context.Background())

	name := "test_" + strings.ToLower(rand.Text()[:12])
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() { Drop(t, server, name) })

	u, err := url.Parse(server)
	if err != nil {
		t.Fatalf("pgtest: %s is not a URL", Variable)
	}
	u.Path = "/" + name
	cu, err := config.ParseURL(u.String())
	if err != nil {
		t.Fatal(err)
	}
	return cu
}

// Drop terminates the sessions of database name and drops it.
func Drop(t testing.TB, server, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Errorf("pgtest: drop %s: %v", name, err)
		return
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		t.Errorf("pgtest: drop %s: %v", name, err)
	}
}

// Exec runs sql as a superuser session on the test server, outside the
// test's database: for simulating outages with pg_terminate_backend or
// ALTER DATABASE ... ALLOW_CONNECTIONS.
func Exec(t testing.TB, sql string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, os.Getenv(Variable))
	if err != nil {
		t.Fatalf("pgtest: connect to %s: %v", Variable, err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("pgtest: %s: %v", sql, err)
	}
}

// SetDown makes the database name refuse new connections and ends the
// open ones (down = true), or accept them again (down = false): an outage
// of one database without touching the shared server.
func SetDown(t testing.TB, name string, down bool) {
	t.Helper()
	Exec(t, fmt.Sprintf("ALTER DATABASE %s ALLOW_CONNECTIONS %t", name, !down))
	if down {
		Exec(t, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", name)
	}
}

// Name returns the database name of a URL made by NewDatabase.
func Name(u config.URL) string {
	p, _ := url.Parse(u.Value())
	return p.Path[1:]
}
