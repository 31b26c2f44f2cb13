package e2e

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
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dozen-go/dozen/internal/postgres/pgtest"
	"github.com/dozen-go/dozen/internal/redis/redistest"
)

// bin is where TestMain built the binaries.
var bin string

func TestMain(m *testing.M) {
	code, err := buildAndRun(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func buildAndRun(m *testing.M) (int, error) {
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
	// Only the tests that run against Postgres (they skip without it) run
	// the worker and the admin binary: without Postgres, only the server
	// is built. The build uses the flags and environment of go run and go
	// test, so the packages they compiled are reused from the build cache:
	// release flags (-trimpath, -ldflags, CGO_ENABLED=0) would compile
	// everything again, which on a cold machine is minutes.
	pkgs := []string{"../../cmd/server"}
	if os.Getenv(pgtest.Variable) != "" {
		pkgs = append(pkgs, "../../cmd/worker", "../../cmd/admin")
	}
	start := time.Now()
	cmd := exec.Command("go", append([]string{"build", "-o", dir + "/"}, pkgs...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("build: %w\n%s", err, out)
	}
	fmt.Printf("e2e: built %d binaries in %s\n", len(pkgs), time.Since(start).Round(time.Millisecond))
	bin = dir
	return m.Run(), nil
}

const token = "e2e-token-0123456789abcdef"

// backing returns the settings that attach the backing services: a fresh
// Postgres database (migrated by the admin binary, as a release would)
// and Redis when the machine has them, else the embedded database.
func backing(t *testing.T) map[string]string {
	t.Helper()
	env := map[string]string{"DATA_DIR": t.TempDir()}
	if os.Getenv(pgtest.Variable) != "" {
		env["DATABASE_URL"] = pgtest.NewDatabase(t).Value()
		if out, err := command(env, "admin", "migrate", "up").CombinedOutput(); err != nil {
			t.Fatalf("admin migrate up: %v\n%s", err, out)
		}
	}
	if u := os.Getenv(redistest.Variable); u != "" {
		env["REDIS_URL"] = u
		env["REDIS_KEY_PREFIX"] = redistest.NewPrefix(t) // its keys go when the test ends
	}
	return env
}

// command returns the binary name with the environment env.
func command(env map[string]string, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(bin, name), args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return cmd
}

// process is a running binary.
type process struct {
	cmd       *exec.Cmd
	addr      string // the public listener, for the server
	adminAddr string
	logs      *logBuffer
	exited    chan struct{}
	err       error // set when exited is closed
}

// logBuffer keeps a process's log lines.
type logBuffer struct {
	mu    sync.Mutex
	lines []map[string]any
}

func (b *logBuffer) add(m map[string]any) {
	b.mu.Lock()
	b.lines = append(b.lines, m)
	b.mu.Unlock()
}

// has reports whether a line has the message.
func (b *logBuffer) has(msg string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, l := range b.lines {
		if l["msg"] == msg {
			return true
		}
	}
	return false
}

// start runs a binary with env on loopback ports and waits until it
// logs ready (the server's "listening", the worker's "working").
func start(t *testing.T, name string, env map[string]string) *process {
	t.Helper()
	full := map[string]string{"PORT": "0", "ADMIN_ADDR": "127.0.0.1:0", "LOG_FLUSH_INTERVAL": "0s", "API_TOKENS": token}
	for k, v := range env {
		full[k] = v
	}
	p := &process{cmd: command(full, name), logs: &logBuffer{}, exited: make(chan struct{})}
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
			p.logs.add(m)
			if m["msg"] == "listening" || m["msg"] == "working" {
				if a, ok := m["addr"].(string); ok {
					_, port, _ := net.SplitHostPort(a)
					p.addr = "127.0.0.1:" + port
				}
				p.adminAddr, _ = m["admin_addr"].(string)
				once.Do(func() { close(ready) })
			}
		}
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
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

// signal sends sig to the process.
func (p *process) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// wait waits for the process to exit within d and returns its exit code.
func (p *process) wait(t *testing.T, d time.Duration) int {
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

func get(c *http.Client, url string) (int, error) {
	resp, err := c.Get(url)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// TestSIGTERMUnderLoad sends SIGTERM, twice, while keep-alive clients send
// a steady stream of requests and keep doing so for a moment after
// readiness drops, as a load balancer does: no request fails, and the
// process exits 0 well inside its budget.
func TestSIGTERMUnderLoad(t *testing.T) {
	env := backing(t)
	env["DRAIN_DELAY"] = "1s"
	env["SHUTDOWN_TIMEOUT"] = "5s"
	p := start(t, "server", env)
	base := "http://" + p.addr

	const clients = 16
	lbLag := 300 * time.Millisecond // shorter than DRAIN_DELAY
	var ok, failed atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			defer c.CloseIdleConnections()
			for {
				select {
				case <-stop:
					return
				default:
				}
				code, err := get(c, base+"/version")
				if err != nil || code != 200 {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprint(code, err))
					continue
				}
				ok.Add(1)
			}
		})
	}
	time.Sleep(time.Second)
	sent := time.Now()
	p.signal(t, syscall.SIGTERM)

	// The load balancer notices readiness dropping, within its lag; the
	// clients go on sending meanwhile.
	c := &http.Client{Timeout: time.Second}
	dropped := false
	for deadline := time.Now().Add(lbLag); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if code, _ := get(c, base+"/readyz"); code == 503 {
			dropped = true
		}
	}
	if !dropped {
		t.Errorf("GET /readyz never answered 503 in the %v after SIGTERM", lbLag)
	}
	p.signal(t, syscall.SIGTERM) // Heroku repeats it
	close(stop)
	wg.Wait()

	code := p.wait(t, 10*time.Second)
	t.Logf("%d requests served, %d failed; exit %d after %v", ok.Load(), failed.Load(), code, time.Since(sent).Round(time.Millisecond))
	if failed.Load() != 0 {
		t.Errorf("%d requests failed across SIGTERM (first: %v), want 0", failed.Load(), firstErr.Load())
	}
	if ok.Load() < clients {
		t.Errorf("only %d requests served", ok.Load())
	}
	if code != 0 {
		t.Errorf("exit code %d, want 0 after a clean drain", code)
	}
	if !p.logs.has("already stopping; signal ignored") {
		t.Error("the repeated SIGTERM was not seen and ignored")
	}
}

// TestSlowHeadersAreCut: a client dripping its headers is disconnected by
// HTTP_READ_HEADER_TIMEOUT.
func TestSlowHeadersAreCut(t *testing.T) {
	env := backing(t)
	env["HTTP_READ_HEADER_TIMEOUT"] = "300ms"
	p := start(t, "server", env)
	conn, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	began := time.Now()
	io.WriteString(conn, "GET /version HTTP/1.1\r\nHost: e2e\r\nX-Slow: ")
	closed := false
	for i := 0; i < 40 && !closed; i++ {
		time.Sleep(50 * time.Millisecond)
		if _, err := io.WriteString(conn, "a"); err != nil {
			closed = true
		}
		conn.SetReadDeadline(time.Now().Add(time.Millisecond))
		if _, err := conn.Read(make([]byte, 512)); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			closed = true
		}
	}
	if !closed {
		t.Fatalf("slow client still connected after %v", time.Since(began))
	}
	if took := time.Since(began); took > 1500*time.Millisecond {
		t.Errorf("slow client cut after %v, want about the 300ms header timeout", took)
	}
}

// TestOversizedHeaders get 431.
func TestOversizedHeaders(t *testing.T) {
	env := backing(t)
	env["HTTP_MAX_HEADER_BYTES"] = "2048"
	p := start(t, "server", env)
	req, _ := http.NewRequest("GET", "http://"+p.addr+"/version", nil)
	req.Header.Set("X-Big", strings.Repeat("a", 16<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("16 KiB header = %d, want 431", resp.StatusCode)
	}
}
