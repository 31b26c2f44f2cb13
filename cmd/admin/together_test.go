package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dozen-go/dozen/internal/schema"
	"github.com/dozen-go/dozen/internal/sqlite"
	"github.com/dozen-go/dozen/migrations"
)

// buildBinaries builds the server, the worker and admin into a temporary
// directory, with plain flags so that the build shares the cache of go run
// and go build, and returns the directory.
func buildBinaries(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	start := time.Now()
	cmd := exec.Command("go", "build", "-o", dir+string(filepath.Separator), "../server", "../worker", ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("built the binaries in %v", time.Since(start).Round(time.Millisecond))
	return dir
}

// child is a binary running as a process of the test.
type child struct {
	name   string
	cmd    *exec.Cmd
	ready  chan string // receives the public address (the worker's: "") once it logs it is ready
	exited chan struct{}
	err    error // set when exited is closed
	out    bytes.Buffer
	mu     sync.Mutex
}

func (c *child) output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.String()
}

// spawn starts bin/name args with the environment env. Its output is
// kept; the line a long-running process logs when it is ready ("listening"
// or "working") is sent on ready.
func spawn(t *testing.T, bin, name string, env map[string]string, args ...string) *child {
	t.Helper()
	c := &child{name: name, cmd: exec.Command(filepath.Join(bin, name), args...), ready: make(chan string, 1), exited: make(chan struct{})}
	c.cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		c.cmd.Env = append(c.cmd.Env, k+"="+v)
	}
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c.cmd.Stderr = writerFunc(func(p []byte) (int, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.out.Write(p)
	})
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			c.mu.Lock()
			c.out.Write(sc.Bytes())
			c.out.WriteByte('\n')
			c.mu.Unlock()
			var line struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && (line.Msg == "listening" || line.Msg == "working") {
				select {
				case c.ready <- line.Addr:
				default:
				}
			}
		}
		c.err = c.cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(func() {
		_ = c.cmd.Process.Kill()
		<-c.exited
	})
	return c
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestStartTogetherEmbedded starts the server, the worker and admin
// migrate up at the same moment on a fresh data directory with no
// DATABASE_URL, as a Procfile runner does, many times over: every time,
// admin exits 0, the server answers /readyz with 200, the worker works,
// and the file holds one clean schema at the latest version, River's
// included.
func TestStartTogetherEmbedded(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binaries")
	}
	bin := buildBinaries(t)
	const tries = 20
	start := time.Now()
	for i := range tries {
		if !startTogether(t, bin, i) {
			return // the first failure tells enough
		}
	}
	t.Logf("%d tries passed in %v", tries, time.Since(start).Round(time.Millisecond))
}

// startTogether runs one try and reports whether it passed.
func startTogether(t *testing.T, bin string, try int) bool {
	t.Helper()
	dir := t.TempDir()
	env := map[string]string{
		"DATA_DIR": dir, "PORT": "0", "ADMIN_ADDR": "127.0.0.1:0", "LOG_FLUSH_INTERVAL": "0s",
		"DRAIN_DELAY": "0s", "SHUTDOWN_TIMEOUT": "5s",
	}
	var procs [3]*child
	var wg sync.WaitGroup
	for i, argv := range [][]string{{"server"}, {"worker"}, {"admin", "migrate", "up"}} {
		wg.Go(func() { procs[i] = spawn(t, bin, argv[0], env, argv[1:]...) })
	}
	wg.Wait()
	server, worker, admin := procs[0], procs[1], procs[2]

	deadline := time.After(60 * time.Second)
	fail := func(format string, args ...any) bool {
		t.Errorf("try %d: %s", try+1, fmt.Sprintf(format, args...))
		for _, p := range procs {
			t.Logf("try %d: %s:\n%s", try+1, p.name, p.output())
		}
		return false
	}
	select {
	case <-admin.exited:
		if admin.err != nil {
			return fail("admin migrate up: %v", admin.err)
		}
	case <-deadline:
		return fail("admin migrate up still running after 60s")
	}
	var addr string
	for _, p := range []*child{server, worker} {
		select {
		case a := <-p.ready:
			if p == server {
				addr = a
			}
		case <-p.exited:
			return fail("%s exited before it was ready: %v", p.name, p.err)
		case <-deadline:
			return fail("%s not ready after 60s", p.name)
		}
	}
	if code, err := getStatus("http://" + addr + "/readyz"); err != nil || code != http.StatusOK {
		return fail("server GET /readyz = %d, %v; want 200", code, err)
	}
	for _, p := range []*child{server, worker} {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
			if p.err != nil {
				return fail("%s exited with %v after SIGTERM", p.name, p.err)
			}
		case <-time.After(15 * time.Second):
			return fail("%s still running 15s after SIGTERM", p.name)
		}
	}

	db, err := sqlite.Open(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	src, err := migrations.FS(migrations.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := schema.Check(t.Context(), db, migrations.SQLite, src); err != nil || s.Dirty || s.Version != s.Latest {
		return fail("schema after the start = %+v, %v; want clean at the latest version", s, err)
	}
	return true
}

func getStatus(url string) (int, error) {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, errors.Join(err)
}
