// Package observe checks what an operator sees of the running processes:
// their traces, exported to a real OTLP receiver, and the dashboards and
// alert rules in deploy/, checked against the metrics they really export.
// The tests build the template's binaries and run them against the
// machine's Postgres and Redis.
package observe

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dozen-go/dozen/internal/postgres/pgtest"
	"github.com/dozen-go/dozen/tools/internal/proctest"
)

// bin is where TestMain built the binaries.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dozen-observe")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cmd := exec.Command("go", "build", "-o", dir+"/", "./cmd/server", "./cmd/worker", "./cmd/admin")
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	bin = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const token = "observe-token-0123456789abcdef"

// backing returns the settings every process of one test shares: a fresh,
// migrated Postgres database, Redis, and a token to create links.
func backing(t *testing.T) map[string]string {
	t.Helper()
	env := map[string]string{
		"DATABASE_URL":         pgtest.NewDatabase(t).Value(),
		"API_TOKENS":           token,
		"CLICK_FLUSH_INTERVAL": "100ms",
		"JOB_POLL_INTERVAL":    "100ms",
		"DRAIN_DELAY":          "0s",
		"LOG_FLUSH_INTERVAL":   "0s",
	}
	if u := os.Getenv("TEST_REDIS_URL"); u != "" {
		env["REDIS_URL"] = u
		env["REDIS_KEY_PREFIX"] = "observe_" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"
	}
	cmd := command("admin", env, "migrate", "up")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("admin migrate up: %v\n%s", err, out)
	}
	return env
}

// command returns the binary name with exactly the environment env.
func command(name string, env map[string]string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(bin, name), args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return cmd
}

// process is a running binary and the JSON lines it has logged.
type process struct {
	cmd    *exec.Cmd
	public string // base URL of the public listener; "" for the worker
	admin  string // base URL of the admin listener
	exited chan struct{}

	mu    sync.Mutex
	lines []map[string]any
}

// start runs name with env plus its own listeners, and waits until it is
// ready. It is stopped when the test ends.
func start(t *testing.T, name string, env map[string]string) *process {
	t.Helper()
	env = clone(env)
	p := &process{exited: make(chan struct{})}
	adminPort := proctest.FreePort(t)
	env["ADMIN_ADDR"] = "127.0.0.1:" + strconv.Itoa(adminPort)
	p.admin = "http://127.0.0.1:" + strconv.Itoa(adminPort)
	if name == "server" {
		port := proctest.FreePort(t)
		env["PORT"] = strconv.Itoa(port)
		p.public = "http://127.0.0.1:" + strconv.Itoa(port)
	}
	p.cmd = command(name, env)
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = os.Stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				p.mu.Lock()
				p.lines = append(p.lines, m)
				p.mu.Unlock()
			}
		}
		_ = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() { p.stop(t) })
	proctest.WaitOK(t, p.admin+"/readyz", p.exited)
	return p
}

// stop sends SIGTERM and waits for the exit; it returns how long that took.
func (p *process) stop(t *testing.T) time.Duration {
	t.Helper()
	select {
	case <-p.exited:
		return 0
	default:
	}
	begin := time.Now()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return time.Since(begin)
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
		t.Errorf("%s did not stop within 30s of SIGTERM", p.cmd.Path)
		return time.Since(begin)
	}
}

// logged returns the lines logged so far that match every key and value
// of want.
func (p *process) logged(want map[string]any) []map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []map[string]any
	for _, l := range p.lines {
		match := true
		for k, v := range want {
			if l[k] != v {
				match = false
				break
			}
		}
		if match {
			out = append(out, l)
		}
	}
	return out
}

func clone(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// eventually polls cond every 50ms until it holds or d passes.
func eventually(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// do sends a request with headers and returns the status and body.
func do(t *testing.T, method, url, body string, headers map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
