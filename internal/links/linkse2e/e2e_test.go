package linkse2e

// The end-to-end tests that drive the link shortener's routes and jobs
// through the real binaries. A service's first route that reads a body
// deserves the same tests: slow uploads cut off at shutdown, and overload
// shed.

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
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dozen-go/dozen/internal/e2e"
	"github.com/dozen-go/dozen/internal/integration"
	"github.com/dozen-go/dozen/internal/postgres/pgtest"
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
	env := e2e.Backing(t)
	env["DRAIN_DELAY"] = "0s"
	env["SHUTDOWN_TIMEOUT"] = "500ms"
	p := start(t, "server", env)
	conn := slowPost(t, p.Addr)
	time.Sleep(100 * time.Millisecond)

	sent := time.Now()
	p.Signal(t, syscall.SIGTERM)
	code := p.Wait(t, 5*time.Second)
	if took := time.Since(sent); took > 3*time.Second {
		t.Errorf("exited %v after SIGTERM, want about SHUTDOWN_TIMEOUT", took)
	}
	if code == 0 {
		t.Error("exit code 0, want non-zero: the drain was not clean")
	}
	if !p.Logs.Has("shutdown timed out") {
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
	env := e2e.Backing(t)
	env["HTTP_MAX_IN_FLIGHT"] = "2"
	env["DRAIN_DELAY"] = "0s"
	p := start(t, "server", env)
	slowPost(t, p.Addr)
	slowPost(t, p.Addr)

	// Once the server holds both slow requests, the next one is shed. How
	// soon it holds them depends on the machine; each answer must be quick.
	c := &http.Client{Timeout: 5 * time.Second}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		began := time.Now()
		resp, err := c.Get("http://" + p.Addr + "/version")
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
	if code, _ := e2e.Get(c, "http://"+p.Addr+"/livez"); code != 200 {
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
	env := e2e.Backing(t)
	env["CLICK_FLUSH_INTERVAL"] = "50ms"
	env["JOB_POLL_INTERVAL"] = "50ms"
	env["SHUTDOWN_TIMEOUT"] = "500ms"
	env["DRAIN_DELAY"] = "0s"
	server := start(t, "server", env)
	base := "http://" + server.Addr
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
		if code, err := e2e.Get(c, base+"/midjob"); code != 302 {
			t.Fatalf("redirect = %d %v", code, err)
		}
	}
	// The redirect cache's entry is under this test's REDIS_KEY_PREFIX,
	// so it goes when the test ends.
	if prefix := env["REDIS_KEY_PREFIX"]; prefix != "" && !slices.Contains(redisKeys(t, prefix), prefix+"link:midjob") {
		t.Errorf("no key %slink:midjob in Redis: the server does not prefix its keys", prefix)
	}
	server.Signal(t, syscall.SIGTERM) // flushes the clicks and enqueues the fold
	if code := server.Wait(t, 10*time.Second); code != 0 {
		t.Fatalf("server exit %d", code)
	}
	// Let reads through but hold up the fold's update of the counts.
	release := holdLinks(t, env["DATABASE_URL"])

	worker := start(t, "worker", env)
	waitForRunningJob(t, env["DATABASE_URL"])
	worker.Signal(t, syscall.SIGTERM)
	code := worker.Wait(t, 15*time.Second)
	if code == 0 {
		t.Error("worker exit 0 with a job cut off, want non-zero")
	}
	release()

	again := start(t, "worker", env)
	defer func() { again.Signal(t, syscall.SIGTERM); again.Wait(t, 15*time.Second) }()
	server2 := start(t, "server", env)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		resp, err := c.Get("http://" + server2.Addr + "/v1/links/midjob")
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
	server2.Signal(t, syscall.SIGTERM)
	server2.Wait(t, 10*time.Second)
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

// redirects sends GET /code from clients at once until stop is called or
// the test ends; stop returns how many were answered 302.
func redirects(t *testing.T, base, code string, clients int) (stop func() int64) {
	t.Helper()
	var n atomic.Int64
	var wg sync.WaitGroup
	done := make(chan struct{})
	for range clients {
		wg.Go(func() {
			c := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			defer c.CloseIdleConnections()
			for {
				select {
				case <-done:
					return
				default:
				}
				status, err := e2e.Get(c, base+"/"+code)
				if err != nil || status != http.StatusFound {
					t.Errorf("GET /%s = %d, %v; want 302", code, status, err)
					return
				}
				n.Add(1)
			}
		})
	}
	var once sync.Once
	stop = func() int64 {
		once.Do(func() { close(done); wg.Wait() })
		return n.Load()
	}
	t.Cleanup(func() { stop() }) // a test that fails early stops them too
	return stop
}

// createLink creates a link with the code through the server's API.
func createLink(t *testing.T, base, code string) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/v1/links", strings.NewReader(`{"url":"https://example.com","code":"`+code+`"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create link %s = %d, want 201", code, resp.StatusCode)
	}
}

// waitForFolds waits until the click log is empty and no fold job is left
// to run, then returns the link's stored count.
func waitForFolds(t *testing.T, url, code string) int64 {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var logged, pending int
		err := conn.QueryRow(t.Context(), `SELECT (SELECT count(*) FROM click_events),
			(SELECT count(*) FROM river_job WHERE kind = 'fold_clicks' AND state NOT IN ('completed', 'cancelled', 'discarded'))`).
			Scan(&logged, &pending)
		if err != nil {
			t.Fatal(err)
		}
		if logged == 0 && pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30s, %d click log rows and %d fold jobs are left", logged, pending)
		}
	}
	var clicks int64
	if err := conn.QueryRow(t.Context(), "SELECT clicks FROM links WHERE code = $1", code).Scan(&clicks); err != nil {
		t.Fatal(err)
	}
	return clicks
}

// queuedFolds counts the fold jobs waiting in the queue.
func queuedFolds(t *testing.T, url string) int {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM river_job
		WHERE kind = 'fold_clicks' AND state IN ('available', 'scheduled')`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// clickTraffic starts what the exact-count tests share: on Postgres,
// whose tables the checks read, a server that flushes its clicks every
// 20ms, with a link of the code and four clients sending its redirect
// without pause. The settings it returns make workers poll every 50ms and
// run four folds at once. Calling stop ends the traffic and stops the
// server, which flushes its last clicks, and returns how many redirects
// were answered.
func clickTraffic(t *testing.T, code string) (env map[string]string, stop func() int64) {
	t.Helper()
	if os.Getenv(pgtest.Variable) == "" {
		integration.Skip(t, pgtest.Variable, "postgres://postgres@127.0.0.1:5432/postgres")
	}
	env = e2e.Backing(t)
	env["CLICK_FLUSH_INTERVAL"] = "20ms"
	env["JOB_POLL_INTERVAL"] = "50ms"
	env["WORKER_CONCURRENCY"] = "4"
	env["DRAIN_DELAY"] = "0s"
	server := start(t, "server", env)
	base := "http://" + server.Addr
	createLink(t, base, code)
	stopRedirects := redirects(t, base, code, 4)
	return env, func() int64 {
		n := stopRedirects()
		server.Signal(t, syscall.SIGTERM)
		if exit := server.Wait(t, 10*time.Second); exit != 0 {
			t.Fatalf("server exit %d", exit)
		}
		return n
	}
}

// TestClickCountsExactAfterSIGTERM sends thousands of redirects over a few
// seconds with no worker running, so that several fold jobs queue up, and
// stops the server with SIGTERM (it flushes its last clicks). A worker
// with WORKER_CONCURRENCY=4 then runs the folds at once over the same
// click log: the stored count is exactly the number of redirects.
func TestClickCountsExactAfterSIGTERM(t *testing.T) {
	env, stop := clickTraffic(t, "exact")
	time.Sleep(3500 * time.Millisecond) // a fold job per second
	redirected := stop()
	queued := queuedFolds(t, env["DATABASE_URL"])
	if queued < 2 {
		t.Errorf("%d fold jobs queued, want several to run at once", queued)
	}

	worker := start(t, "worker", env)
	got := waitForFolds(t, env["DATABASE_URL"], "exact")
	worker.Signal(t, syscall.SIGTERM)
	worker.Wait(t, 15*time.Second)
	t.Logf("%d redirects, %d fold jobs queued, %d clicks stored", redirected, queued, got)
	if got != redirected {
		t.Errorf("stored clicks = %d after %d redirects, want exactly %d", got, redirected, redirected)
	}
}

// TestClickCountsExactWorkerRestarted restarts the worker in the middle of
// steady redirect traffic: the jobs queued while it was down run at once
// after it returns, beside new ones. Once the server has stopped and the
// folds are done, the stored count is exactly the number of redirects.
func TestClickCountsExactWorkerRestarted(t *testing.T) {
	env, stop := clickTraffic(t, "restart")
	worker := start(t, "worker", env)
	time.Sleep(time.Second)
	worker.Signal(t, syscall.SIGTERM)
	if code := worker.Wait(t, 15*time.Second); code != 0 {
		t.Errorf("worker exit %d, want 0", code)
	}
	time.Sleep(2 * time.Second) // fold jobs queue up meanwhile
	worker = start(t, "worker", env)
	time.Sleep(time.Second)
	redirected := stop()
	got := waitForFolds(t, env["DATABASE_URL"], "restart")
	worker.Signal(t, syscall.SIGTERM)
	worker.Wait(t, 15*time.Second)
	t.Logf("%d redirects, %d clicks stored", redirected, got)
	if got != redirected {
		t.Errorf("stored clicks = %d after %d redirects, want exactly %d", got, redirected, redirected)
	}
}
