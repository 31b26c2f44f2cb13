package e2e

// The harness: it builds the binaries and runs them as processes.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dozen-go/dozen/internal/postgres/pgtest"
	"github.com/dozen-go/dozen/internal/redis/redistest"
)

// bin is where Main built the binaries.
var bin string

// Main is the TestMain of a package of end-to-end tests: it builds the
// commands named (directories of cmd/) and runs the tests of m, which
// start them with Start.
func Main(m *testing.M, commands ...string) {
	code, err := buildAndRun(m, commands)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func buildAndRun(m *testing.M, commands []string) (int, error) {
	flag.Parse()
	if testing.Short() {
		// The build is most of this package's time; -short is the quick
		// loop, and CI runs without it.
		fmt.Println("e2e: skipped with -short: it builds and runs the binaries")
		return 0, nil
	}
	dir, err := os.MkdirTemp("", "e2e-bin")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	// The build uses the flags and environment of go run and go test, so
	// the packages they compiled are reused from the build cache: release
	// flags (-trimpath, -ldflags, CGO_ENABLED=0) would compile everything
	// again, which on a cold machine is minutes.
	root, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		return 0, fmt.Errorf("find the module: %w", err)
	}
	var pkgs []string
	for _, c := range commands {
		pkgs = append(pkgs, "./cmd/"+c)
	}
	start := time.Now()
	cmd := exec.Command("go", append([]string{"build", "-o", dir + "/"}, pkgs...)...)
	cmd.Dir = strings.TrimSpace(string(root))
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("build: %w\n%s", err, out)
	}
	fmt.Printf("e2e: built %d binaries in %s\n", len(pkgs), time.Since(start).Round(time.Millisecond))
	bin = dir
	return m.Run(), nil
}

// Backing returns the settings that attach the backing services: a fresh
// Postgres database (migrated by the admin binary, as a release would)
// and Redis when the machine has them, else the embedded database.
func Backing(t *testing.T) map[string]string {
	t.Helper()
	env := map[string]string{"DATA_DIR": t.TempDir()}
	if os.Getenv(pgtest.Variable) != "" {
		env["DATABASE_URL"] = pgtest.NewDatabase(t).Value()
		if out, err := Command(env, "admin", "migrate", "up").CombinedOutput(); err != nil {
			t.Fatalf("admin migrate up: %v\n%s", err, out)
		}
	}
	if u := os.Getenv(redistest.Variable); u != "" {
		env["REDIS_URL"] = u
		env["REDIS_KEY_PREFIX"] = redistest.NewPrefix(t) // its keys go when the test ends
	}
	return env
}

// Command returns the binary name with the environment env.
func Command(env map[string]string, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(bin, name), args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return cmd
}

// Process is a running binary.
type Process struct {
	cmd       *exec.Cmd
	Addr      string // the public listener, for the server
	AdminAddr string
	Logs      *Logs
	exited    chan struct{}
	err       error // set when exited is closed
}

// Logs keeps a process's log lines.
type Logs struct {
	mu    sync.Mutex
	lines []map[string]any
}

func (b *Logs) add(m map[string]any) {
	b.mu.Lock()
	b.lines = append(b.lines, m)
	b.mu.Unlock()
}

// Has reports whether a line has the message.
func (b *Logs) Has(msg string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, l := range b.lines {
		if l["msg"] == msg {
			return true
		}
	}
	return false
}

// Start runs a binary with env on loopback ports and waits until it
// logs ready (the server's "listening", the worker's "working").
func Start(t *testing.T, name string, env map[string]string) *Process {
	t.Helper()
	full := map[string]string{"PORT": "0", "ADMIN_ADDR": "127.0.0.1:0", "LOG_FLUSH_INTERVAL": "0s"}
	for k, v := range env {
		full[k] = v
	}
	p := &Process{cmd: Command(full, name), Logs: &Logs{}, exited: make(chan struct{})}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	p.cmd.Stderr = &stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var once sync.Once
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) != nil {
				continue
			}
			p.Logs.add(m)
			if m["msg"] == "listening" || m["msg"] == "working" {
				if a, ok := m["addr"].(string); ok {
					_, port, _ := net.SplitHostPort(a)
					p.Addr = "127.0.0.1:" + port
				}
				p.AdminAddr, _ = m["admin_addr"].(string)
				once.Do(func() { close(ready) })
			}
		}
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill() // it may have exited already
		<-p.exited
	})
	select {
	case <-ready:
		return p
	case <-p.exited:
		t.Fatalf("%s exited before it was ready: %v\n%s", name, p.err, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("%s not ready after 30s", name)
	}
	return nil
}

// Signal sends sig to the process.
func (p *Process) Signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// Wait waits for the process to exit within d and returns its exit code.
func (p *Process) Wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(d):
		t.Fatalf("still running %v later", d)
	}
	var exit *exec.ExitError
	if errors.As(p.err, &exit) {
		return exit.ExitCode()
	}
	if p.err != nil {
		t.Fatal(p.err)
	}
	return 0
}

// Get sends a GET with c and returns the status.
func Get(c *http.Client, url string) (int, error) {
	resp, err := c.Get(url)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}
