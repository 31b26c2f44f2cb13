package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/dozen-go/dozen/internal/config"
	"github.com/dozen-go/dozen/internal/database"
	"github.com/dozen-go/dozen/internal/health"
	"github.com/dozen-go/dozen/internal/postgres/pgtest"
	"github.com/dozen-go/dozen/migrations"
)

// runUntilError runs the server with env, expecting it to fail before it
// listens, and returns the error and how long it took.
func runUntilError(t *testing.T, env map[string]string) (time.Duration, error) {
	t.Helper()
	base := map[string]string{"PORT": "0", "ADMIN_ADDR": "127.0.0.1:0", "LOG_FLUSH_INTERVAL": "0s"}
	for k, v := range env {
		base[k] = v
	}
	var out strings.Builder
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		done <- run(context.Background(), nil, func(k string) (string, bool) { v, ok := base[k]; return v, ok }, &out)
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("run() = nil, want an error before serving")
		}
		return time.Since(start), err
	case <-time.After(30 * time.Second):
		syscall.Kill(syscall.Getpid(), syscall.SIGINT)
		<-done
		t.Fatal("run() is still running after 30s, want it to refuse to start")
		return 0, nil
	}
}

// stop sends SIGINT and waits for run to return nil.
func stop(t *testing.T, s *started) {
	t.Helper()
	syscall.Kill(syscall.Getpid(), syscall.SIGINT)
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("run() = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after SIGINT")
	}
	for range s.lines {
	}
}

func readyz(t *testing.T, s *started) (int, health.Report) {
	t.Helper()
	code, body := get(t, "http://"+s.addr+"/readyz")
	var r health.Report
	json.Unmarshal([]byte(body), &r)
	return code, r
}

// TestEmbeddedMode starts with no DATABASE_URL: the server says so in its
// log, migrates its own SQLite file, and is ready; a restart on the same
// data directory finds nothing to migrate.
func TestEmbeddedMode(t *testing.T) {
	dir := t.TempDir()
	for i := range 2 {
		s := start(t, map[string]string{"DATA_DIR": dir, "DRAIN_DELAY": "0s"})
		log := strings.Join(s.startup, "\n")
		waitFor(t, "http://"+s.addr+"/readyz", 200)
		if _, r := readyz(t, s); len(r.Checks) != 1 || r.Checks[0].Name != "sqlite" || !r.Checks[0].Required {
			t.Errorf("/readyz checks = %+v, want one required sqlite check", r.Checks)
		}
		if !strings.Contains(log, "embedded mode") || !strings.Contains(log, "Production needs DATABASE_URL") {
			t.Errorf("start-up log does not warn about embedded mode:\n%s", log)
		}
		if migrated := strings.Contains(log, "embedded database migrated"); migrated != (i == 0) {
			t.Errorf("start %d: migrated = %v, want %v", i+1, migrated, i == 0)
		}
		stop(t, s)
	}
}

// migrated returns a Postgres database of the test's own, migrated with
// src (nil: the embedded migrations), and the migrator's error.
func migrated(t *testing.T, src fs.FS) (config.URL, error) {
	t.Helper()
	u := pgtest.NewDatabase(t)
	cfg := config.Database{URL: u, MigrationLockTimeout: 5 * time.Second, ConnectTimeout: 5 * time.Second}
	m, err := database.OpenMigratorFS(t.Context(), cfg, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	_, err = m.Up(t.Context())
	return u, err
}

// embeddedPlus returns the embedded Postgres migrations and extra files.
func embeddedPlus(t *testing.T, extra fstest.MapFS) fs.FS {
	t.Helper()
	src, err := migrations.FS(migrations.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	all := fstest.MapFS{}
	entries, _ := fs.ReadDir(src, ".")
	for _, e := range entries {
		b, _ := fs.ReadFile(src, e.Name())
		all[e.Name()] = &fstest.MapFile{Data: b}
	}
	for k, v := range extra {
		all[k] = v
	}
	return all
}

// TestRefusesSchemaItCannotServe checks the start-up schema check against
// Postgres: an older schema or a dirty one stops the start with what to
// do; a newer one is served.
func TestRefusesSchemaItCannotServe(t *testing.T) {
	t.Run("stale", func(t *testing.T) {
		src, _ := migrations.FS(migrations.Postgres)
		list, _ := migrations.List(src)
		// Everything but the last migration.
		older := fstest.MapFS{}
		for _, mi := range list[:len(list)-1] {
			for _, dir := range []string{"up", "down"} {
				name := fmt.Sprintf("%06d_%s.%s.sql", mi.Version, mi.Title, dir)
				b, _ := fs.ReadFile(src, name)
				older[name] = &fstest.MapFile{Data: b}
			}
		}
		u, err := migrated(t, older)
		if err != nil {
			t.Fatal(err)
		}
		_, err = runUntilError(t, map[string]string{"DATABASE_URL": u.Value()})
		if !strings.Contains(err.Error(), `run "admin migrate up"`) {
			t.Errorf("run(stale schema) = %v, want it to say to run admin migrate up", err)
		}
	})
	t.Run("dirty", func(t *testing.T) {
		u, err := migrated(t, embeddedPlus(t, fstest.MapFS{
			"000999_broken.up.sql":   {Data: []byte("CREATE TABLE half (id integer); SELECT * FROM no_such_table;")},
			"000999_broken.down.sql": {Data: []byte("DROP TABLE half;")},
		}))
		if err == nil {
			t.Fatal("migrating with a broken migration succeeded")
		}
		_, err = runUntilError(t, map[string]string{"DATABASE_URL": u.Value()})
		if !strings.Contains(err.Error(), "dirty") || !strings.Contains(err.Error(), "admin migrate force") {
			t.Errorf("run(dirty schema) = %v, want the dirty state and the recovery steps", err)
		}
	})
	t.Run("newer", func(t *testing.T) {
		u, err := migrated(t, embeddedPlus(t, fstest.MapFS{
			"000999_later.up.sql":   {Data: []byte("CREATE TABLE later (id integer);")},
			"000999_later.down.sql": {Data: []byte("DROP TABLE later;")},
		}))
		if err != nil {
			t.Fatal(err)
		}
		s := start(t, map[string]string{"DATABASE_URL": u.Value(), "DRAIN_DELAY": "0s"})
		waitFor(t, "http://"+s.addr+"/readyz", 200)
		stop(t, s)
	})
}

// TestPostgresDownAtStart checks that an unreachable database stops the
// start after the configured attempts, with an error that names the
// problem and not the password.
func TestPostgresDownAtStart(t *testing.T) {
	t.Parallel() // it waits on timeouts: let the package's other tests run meanwhile
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	const password = "pw-never-shown"
	took, err := runUntilError(t, map[string]string{
		"DATABASE_URL":              "postgres://app:" + password + "@" + addr + "/app?sslmode=disable",
		"DATABASE_CONNECT_ATTEMPTS": "3",
		"DATABASE_CONNECT_TIMEOUT":  "1s",
	})
	if !strings.Contains(err.Error(), "gave up after 3 attempts") || strings.Contains(err.Error(), password) {
		t.Errorf("run(postgres down) = %v, want a bounded retry error without the password", err)
	}
	if took > 10*time.Second {
		t.Errorf("run(postgres down) took %v, want the bounded retries only", took)
	}
}

// TestPostgresOutageWhileServing cuts the server's database off while it
// serves (its sessions terminated with pg_terminate_backend and new ones
// refused, on the test's own database only): /readyz fails, /livez does
// not, and both recover without a restart once the database is back.
func TestPostgresOutageWhileServing(t *testing.T) {
	u, err := migrated(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := start(t, map[string]string{
		"DATABASE_URL": u.Value(), "DRAIN_DELAY": "0s",
		"READY_TIMEOUT": "500ms", "READY_CACHE_TTL": "100ms",
	})
	waitFor(t, "http://"+s.addr+"/readyz", 200)
	if code, body := get(t, "http://"+s.adminAddr+"/metrics"); code != 200 || !strings.Contains(body, "db_pool_max_connections 10") {
		t.Errorf("GET /metrics = %d, want the pool metrics", code)
	}

	pgtest.SetDown(t, pgtest.Name(u), true)
	t.Cleanup(func() { pgtest.SetDown(t, pgtest.Name(u), false) })
	waitFor(t, "http://"+s.addr+"/readyz", 503)
	if code, _ := get(t, "http://"+s.addr+"/livez"); code != 200 {
		t.Errorf("GET /livez while the database is down = %d, want 200", code)
	}
	_, body := get(t, "http://"+s.addr+"/readyz")
	if strings.Contains(body, "not currently accepting") || strings.Contains(body, pgtest.Name(u)) {
		t.Errorf("GET /readyz body = %s, shows the database's error", body)
	}

	pgtest.SetDown(t, pgtest.Name(u), false)
	back := time.Now()
	waitFor(t, "http://"+s.addr+"/readyz", 200)
	t.Logf("/readyz was 200 again %v after the database accepted connections", time.Since(back))
	stop(t, s)
}

// TestRedisOptional attaches a Redis that does not answer: the server
// starts and stays ready, and reports Redis as down.
func TestRedisOptional(t *testing.T) {
	t.Parallel() // it waits on timeouts: let the package's other tests run meanwhile
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := start(t, map[string]string{"DATA_DIR": t.TempDir(), "REDIS_URL": "redis://" + addr, "DRAIN_DELAY": "0s"})
	waitFor(t, "http://"+s.addr+"/readyz", 200)
	_, r := readyz(t, s)
	want := []health.Result{{Name: "sqlite", Required: true, OK: true}, {Name: "redis", Required: false, OK: false}}
	if fmt.Sprint(r.Checks) != fmt.Sprint(want) {
		t.Errorf("/readyz checks = %+v, want %+v", r.Checks, want)
	}
	stop(t, s)
}

// TestStopSignalDuringStartup sends SIGINT while the server waits for a
// database that does not answer: it stops waiting and returns at once.
func TestStopSignalDuringStartup(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	go func() {
		time.Sleep(500 * time.Millisecond)
		syscall.Kill(syscall.Getpid(), syscall.SIGINT)
	}()
	took, err := runUntilError(t, map[string]string{
		"DATABASE_URL":              "postgres://app@" + addr + "/app?sslmode=disable",
		"DATABASE_CONNECT_ATTEMPTS": "100",
	})
	if !strings.Contains(err.Error(), "during start-up") {
		t.Errorf("run(SIGINT while connecting) = %v, want it stopped during start-up", err)
	}
	if took > 3*time.Second {
		t.Errorf("run took %v after SIGINT, want it to stop waiting at once", took)
	}
}
