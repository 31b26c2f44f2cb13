package e2e

// The tests that drive the example's routes and jobs. Delete this file
// with the example, and give your first route that reads a body the same
// tests: slow uploads cut off at shutdown, and overload shed.

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dozen-go/dozen/internal/integration"
	"github.com/dozen-go/dozen/internal/postgres/pgtest"
	"github.com/dozen-go/dozen/internal/redis/redistest"
)

// slowPost starts a POST whose body arrives slowly: its handler is running,
// reading the body, until the rest is sent.
func slowPost(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST /v1/links HTTP/1.1\r\nHost: e2e\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"url\":", token)
	return conn
}

// TestHandlerSlowerThanShutdownTimeout: a request still running when
// SHUTDOWN_TIMEOUT ends is cut off, the process exits in time, non-zero,
// and says why.
func TestHandlerSlowerThanShutdownTimeout(t *testing.T) {
	env := backing(t)
	env["DRAIN_DELAY"] = "0s"
	env["SHUTDOWN_TIMEOUT"] = "500ms"
	p := start(t, "server", env)
	conn := slowPost(t, p.addr)
	time.Sleep(100 * time.Millisecond)

	sent := time.Now()
	p.signal(t, syscall.SIGTERM)
	code := p.wait(t, 5*time.Second)
	if took := time.Since(sent); took > 3*time.Second {
		t.Errorf("exited %v after SIGTERM, want about SHUTDOWN_TIMEOUT", took)
	}
	if code == 0 {
		t.Error("exit code 0, want non-zero: the drain was not clean")
	}
	if !p.logs.has("shutdown timed out") {
		t.Error(`no "shutdown timed out" log line`)
	}
	conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	if n, err := conn.Read(make([]byte, 1)); err == nil {
		t.Errorf("the cut-off request's connection is still open (read %d bytes)", n)
	}
}

// TestOverloadIsShedFast fills the in-flight cap with slow requests: the
// next request gets 503 with Retry-After at once, and probes still answer.
func TestOverloadIsShedFast(t *testing.T) {
	env := backing(t)
	env["HTTP_MAX_IN_FLIGHT"] = "2"
	env["DRAIN_DELAY"] = "0s"
	p := start(t, "server", env)
	slowPost(t, p.addr)
	slowPost(t, p.addr)

	// Once the server holds both slow requests, the next one is shed. How
	// soon it holds them depends on the machine; each answer must be quick.
	c := &http.Client{Timeout: 5 * time.Second}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		began := time.Now()
		resp, err := c.Get("http://" + p.addr + "/version")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		took := time.Since(began)
		if resp.StatusCode == 503 {
			if resp.Header.Get("Retry-After") == "" || took > time.Second {
				t.Errorf("GET over the cap = 503 (Retry-After %q) after %v, want Retry-After at once", resp.Header.Get("Retry-After"), took)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET with two slow requests in flight and a cap of 2 = %d, want 503", resp.StatusCode)
		}
	}
	if code, _ := get(c, "http://"+p.addr+"/livez"); code != 200 {
		t.Errorf("GET /livez over the cap = %d, want 200: probes are not shed", code)
	}
}

// TestWorkerStoppedMidJob stops the worker while a job cannot finish (the
// database holds it up): the job is cancelled, the worker exits in time
// saying so, and the next worker runs it — the clicks are counted exactly
// once. It needs Postgres, where a table lock can hold up one job and
// nothing else; internal/jobs tests the same on SQLite with a job that
// blocks in Go.
func TestWorkerStoppedMidJob(t *testing.T) {
	if os.Getenv(pgtest.Variable) == "" {
		integration.Skip(t, pgtest.Variable, "postgres://postgres@127.0.0.1:5432/postgres")
	}
	env := backing(t)
	env["CLICK_FLUSH_INTERVAL"] = "50ms"
	env["JOB_POLL_INTERVAL"] = "50ms"
	env["SHUTDOWN_TIMEOUT"] = "500ms"
	env["DRAIN_DELAY"] = "0s"
	server := start(t, "server", env)
	base := "http://" + server.addr
	c := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("POST", base+"/v1/links", strings.NewReader(`{"url":"https://example.com","code":"midjob"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("create link: %v %v", resp, err)
	}
	resp.Body.Close()

	for range 25 {
		if code, err := get(c, base+"/midjob"); code != 302 {
			t.Fatalf("redirect = %d %v", code, err)
		}
	}
	// The redirect cache's entry is under this test's REDIS_KEY_PREFIX,
	// so it goes when the test ends.
	if prefix := env["REDIS_KEY_PREFIX"]; prefix != "" && !slices.Contains(redistest.Keys(t, prefix), prefix+"link:midjob") {
		t.Errorf("no key %slink:midjob in Redis: the server does not prefix its keys", prefix)
	}
	server.signal(t, syscall.SIGTERM) // flushes the clicks and enqueues the fold
	if code := server.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("server exit %d", code)
	}
	// Let reads through but hold up the fold's update of the counts.
	release := holdLinks(t, env["DATABASE_URL"])

	worker := start(t, "worker", env)
	waitForRunningJob(t, env["DATABASE_URL"])
	worker.signal(t, syscall.SIGTERM)
	code := worker.wait(t, 15*time.Second)
	if code == 0 {
		t.Error("worker exit 0 with a job cut off, want non-zero")
	}
	release()

	again := start(t, "worker", env)
	defer func() { again.signal(t, syscall.SIGTERM); again.wait(t, 15*time.Second) }()
	server2 := start(t, "server", env)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		resp, err := c.Get("http://" + server2.addr + "/v1/links/midjob")
		if err != nil {
			t.Fatal(err)
		}
		var l struct{ Clicks int }
		json.NewDecoder(resp.Body).Decode(&l)
		resp.Body.Close()
		if l.Clicks == 25 {
			break
		}
		if l.Clicks > 25 || time.Now().After(deadline) {
			t.Fatalf("clicks = %d, want exactly 25 after the retry", l.Clicks)
		}
	}
	server2.signal(t, syscall.SIGTERM)
	server2.wait(t, 10*time.Second)
}

// holdLinks takes a SHARE lock on the links table from another connection
// until release is called: reads go on, updates wait.
func holdLinks(t *testing.T, url string) (release func()) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(t.Context(), "LOCK TABLE links IN SHARE MODE"); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			tx.Rollback(context.Background())
			conn.Close(context.Background())
		})
	}
	t.Cleanup(release)
	return release
}

// waitForRunningJob waits until a job is running: the fold, blocked.
func waitForRunningJob(t *testing.T, url string) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var n int
		if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM river_job WHERE state = 'running'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no job running 20s after the worker started")
		}
	}
}
