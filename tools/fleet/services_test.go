package fleet

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dozen-go/dozen/internal/integration"
	"github.com/dozen-go/dozen/tools/internal/proctest"
)

// tools finds the programs a fleet needs. Missing ones skip the test,
// or fail it when REQUIRE_INTEGRATION_TESTS=1 (CI).
type tools struct {
	haproxy, redis string
	pgBin          string // directory of initdb, pg_ctl
}

func findTools(t *testing.T) tools {
	t.Helper()
	var missing []string
	var tl tools
	var err error
	if tl.haproxy, err = exec.LookPath("haproxy"); err != nil {
		missing = append(missing, "haproxy (apt-get install haproxy)")
	}
	if tl.redis, err = exec.LookPath("redis-server"); err != nil {
		missing = append(missing, "redis-server")
	}
	if tl.pgBin = postgresBin(); tl.pgBin == "" {
		missing = append(missing, "the PostgreSQL server binaries (initdb, pg_ctl)")
	}
	if len(missing) > 0 {
		msg := "the fleet test needs " + strings.Join(missing, ", ")
		if os.Getenv(integration.Require) == "1" {
			t.Fatalf("%s; %s=1 forbids skipping", msg, integration.Require)
		}
		t.Skip(msg)
	}
	return tl
}

// postgresBin returns the directory of the newest PostgreSQL server
// binaries: Debian's /usr/lib/postgresql/N/bin, or initdb on PATH.
func postgresBin() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return va - vb
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i]
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p)
	}
	return ""
}

// proc is one process the test started.
type proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	err     error     // its exit, once done is closed
	ended   time.Time // once done is closed
	stopped bool      // the test stopped it on purpose
}

// start runs path with args and exactly env, its output in dir/name.log.
// The process is killed when the test ends, if still running.
func start(t *testing.T, dir, name, path string, args, env []string) *proc {
	t.Helper()
	p := &proc{name: name, logPath: filepath.Join(dir, name+".log"), done: make(chan struct{})}
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(path, args...)
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		err := p.cmd.Wait()
		logf.Close()
		p.err, p.ended = err, time.Now()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// tail returns the last n lines of the process's output.
func (p *proc) tail(n int) string {
	b, _ := os.ReadFile(p.logPath)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// signalAndWait sends sig and waits up to limit for the exit.
func (p *proc) signalAndWait(sig syscall.Signal, limit time.Duration) error {
	p.stopped = true
	if err := p.cmd.Process.Signal(sig); err != nil {
		return err
	}
	select {
	case <-p.done:
		return p.err
	case <-time.After(limit):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s still running %v after %v; killed", p.name, limit, sig)
	}
}

// waitFor polls ok every 50 ms until it holds, p exits (when not nil) or
// limit passes.
func waitFor(what string, limit time.Duration, p *proc, ok func() bool) error {
	deadline := time.Now().Add(limit)
	for !ok() {
		if p != nil && !p.running() {
			return fmt.Errorf("%s: %s exited (%v):\n%s", what, p.name, p.err, p.tail(20))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not after %v", what, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// httpOK says whether GET url answers 200.
func httpOK(url string) bool {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// postgres is a cluster of the test's own, in a temporary directory, so
// the test may stop and start it.
type postgres struct {
	bin, dir string
	port     int
	cred     *syscall.Credential // the postgres user's, when the test runs as root
}

// startPostgres makes a cluster with initdb and starts it on a free port.
// initdb refuses to run as root, so as root the cluster runs as the
// machine's postgres user.
func startPostgres(t *testing.T, bin string) *postgres {
	t.Helper()
	pg := &postgres{bin: bin, dir: filepath.Join(tempDir(t), "pg"), port: proctest.FreePort(t)}
	if err := os.Mkdir(pg.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root, the cluster needs the postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		pg.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(pg.dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		// The parent directories must let the postgres user through.
		_ = os.Chmod(filepath.Dir(pg.dir), 0o755)
	}
	if out, err := pg.run("initdb", "-D", pg.dir+"/data", "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	if err := pg.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = pg.run("pg_ctl", "-D", pg.dir+"/data", "-m", "immediate", "-w", "stop") })
	return pg
}

func (pg *postgres) run(name string, args ...string) ([]byte, error) {
	cmd := exec.Command(filepath.Join(pg.bin, name), args...)
	cmd.Dir = pg.dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "LC_ALL=C"}
	if pg.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: pg.cred}
	}
	return cmd.CombinedOutput()
}

// start starts the cluster and waits until it accepts connections.
func (pg *postgres) start() error {
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200", pg.port, pg.dir)
	if out, err := pg.run("pg_ctl", "-D", pg.dir+"/data", "-o", opts, "-l", pg.dir+"/postgres.log", "-w", "-t", "60", "start"); err != nil {
		return fmt.Errorf("pg_ctl start: %w\n%s", err, out)
	}
	return nil
}

// stop stops the cluster with a fast shutdown: sessions are ended,
// transactions rolled back, as an operator's restart or a failover does.
func (pg *postgres) stop() error {
	if out, err := pg.run("pg_ctl", "-D", pg.dir+"/data", "-m", "fast", "-w", "-t", "60", "stop"); err != nil {
		return fmt.Errorf("pg_ctl stop: %w\n%s", err, out)
	}
	return nil
}

func (pg *postgres) url() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", pg.port)
}

// connect opens a connection to the cluster, closed when the test ends.
func (pg *postgres) connect(t *testing.T) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), pg.url())
	if err != nil {
		t.Fatalf("connect to the fleet's postgres: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// pid returns the postmaster's process id, 0 when it is not running.
func (pg *postgres) pid() int {
	b, err := os.ReadFile(filepath.Join(pg.dir, "data", "postmaster.pid"))
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	n, _ := strconv.Atoi(strings.TrimSpace(line))
	return n
}

// tempDir returns a temporary directory that other users may enter (the
// postgres user, when the test runs as root), removed when the test ends.
func tempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "fleet")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// redis is a redis-server of the test's own, without persistence: a
// restart empties it, as a failover to an empty replica would.
type redis struct {
	t        *testing.T
	bin, dir string
	port     int
	starts   int

	mu sync.Mutex // guards p, which the memory sampler reads
	p  *proc
}

func startRedis(t *testing.T, bin, dir string) *redis {
	t.Helper()
	r := &redis{t: t, bin: bin, dir: dir, port: proctest.FreePort(t)}
	if err := r.start(); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *redis) start() error {
	r.starts++
	p := start(r.t, r.dir, fmt.Sprintf("redis-%d", r.starts), r.bin,
		[]string{"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", r.dir}, nil)
	r.mu.Lock()
	r.p = p
	r.mu.Unlock()
	return waitFor("redis answers", 20*time.Second, p, func() bool {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", r.port), time.Second)
		if err != nil {
			return false
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(time.Second))
		if _, err := c.Write([]byte("PING\r\n")); err != nil {
			return false
		}
		line, err := bufio.NewReader(c).ReadString('\n')
		return err == nil && strings.HasPrefix(line, "+PONG")
	})
}

// kill ends redis-server with SIGKILL, as a crash would.
func (r *redis) kill() {
	r.mu.Lock()
	p := r.p
	r.mu.Unlock()
	p.stopped = true
	_ = p.cmd.Process.Kill()
	<-p.done
}

// pid returns the running redis-server's process id, 0 when none runs.
func (r *redis) pid() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.p.running() {
		return r.p.pid()
	}
	return 0
}

func (r *redis) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

// haproxy is the load balancer: one frontend, one backend of slots. Each
// slot is a fixed port a replica may listen on; a slot starts in
// maintenance (no replica there) and the test puts it in service when a
// replica starts on its port, as endpoints come and go with pods.
type haproxy struct {
	p     *proc
	port  int
	sock  string
	slots []int // the slots' ports; slot i is server s<i>
}

// The health check: what a Kubernetes readiness probe does, faster.
// Settings a replica's DRAIN_DELAY must outlast: fall × inter, plus a
// check in flight.
const (
	checkInter = 500 * time.Millisecond
	checkFall  = 2
	checkRise  = 2
)

func startHAProxy(t *testing.T, bin, dir string, slots int) *haproxy {
	t.Helper()
	h := &haproxy{port: proctest.FreePort(t), sock: filepath.Join(dir, "haproxy.sock")}
	for range slots {
		h.slots = append(h.slots, proctest.FreePort(t))
	}
	var servers strings.Builder
	for i, port := range h.slots {
		fmt.Fprintf(&servers, "    server s%d 127.0.0.1:%d check disabled\n", i, port)
	}
	// With no replica ready, HAProxy answers 503 itself: with a
	// Retry-After, as an ingress' error page should, so a client backs
	// off the same way whichever tier refused it.
	errFile := filepath.Join(dir, "503.http")
	body := `{"type":"about:blank","title":"Service Unavailable","status":503,"detail":"no replica is ready; retry after the Retry-After header's seconds"}` + "\n"
	resp := "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\nRetry-After: 1\r\nCache-Control: no-store\r\nConnection: close\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n" + body
	if err := os.WriteFile(errFile, []byte(resp), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`global
    maxconn 2000
    nbthread 1
    stats socket %s mode 600 level admin
    log stderr format short local0 notice

defaults
    mode http
    log global
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout http-keep-alive 30s
    timeout check 1s
    retries 3
    option redispatch 1
    errorfile 503 %s

frontend web
    bind 127.0.0.1:%d
    # The client's address, appended: the replicas trust one proxy
    # (TRUSTED_PROXIES=1) and take the last entry as the client.
    option forwardfor
    default_backend replicas

backend replicas
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter %dms fall %d rise %d
    # Which replica answered, for the test's accounting.
    http-response set-header X-Fleet-Server %%s
%s`, h.sock, errFile, h.port, checkInter.Milliseconds(), checkFall, checkRise, servers.String())
	cfgPath := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	h.p = start(t, dir, "haproxy", bin, []string{"-f", cfgPath, "-db"}, nil)
	if err := waitFor("haproxy's stats socket", 20*time.Second, h.p, func() bool {
		_, err := h.command("show info")
		return err == nil
	}); err != nil {
		t.Fatal(err)
	}
	return h
}

// command sends one command to the runtime API and returns its answer.
func (h *haproxy) command(cmd string) (string, error) {
	c, err := net.DialTimeout("unix", h.sock, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte(cmd + "\n")); err != nil {
		return "", err
	}
	var b bytes.Buffer
	_, err = b.ReadFrom(c)
	return b.String(), err
}

// setState puts slot i in service ("ready") or takes it out ("maint").
func (h *haproxy) setState(i int, state string) error {
	out, err := h.command(fmt.Sprintf("set server replicas/s%d state %s", i, state))
	if err == nil && strings.TrimSpace(out) != "" {
		err = errors.New(strings.TrimSpace(out))
	}
	return err
}

// status returns each slot's status as HAProxy reports it: UP, DOWN,
// MAINT, or a transition such as "UP 1/2".
func (h *haproxy) status() (map[int]string, error) {
	out, err := h.command("show stat")
	if err != nil {
		return nil, err
	}
	lines := strings.Split(out, "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "# ") {
		return nil, fmt.Errorf("show stat: unexpected answer %q", out)
	}
	header := strings.Split(strings.TrimPrefix(lines[0], "# "), ",")
	col := slices.Index(header, "status")
	st := map[int]string{}
	for _, line := range lines[1:] {
		f := strings.Split(line, ",")
		if len(f) <= col || f[0] != "replicas" || !strings.HasPrefix(f[1], "s") {
			continue
		}
		i, err := strconv.Atoi(f[1][1:])
		if err != nil {
			continue
		}
		st[i] = f[col]
	}
	return st, nil
}

// slotStatus returns one slot's status, "" when it cannot be read.
func (h *haproxy) slotStatus(i int) string {
	st, err := h.status()
	if err != nil {
		return ""
	}
	return st[i]
}

// buildTree builds the server, worker and admin binaries of the template
// tree at src into out.
func buildTree(ctx context.Context, src, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out+string(os.PathSeparator), "./cmd/server", "./cmd/worker", "./cmd/admin")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build in %s: %w\n%s", src, err, b)
	}
	return nil
}

// copyTree copies what building the template needs (go.mod, go.sum, cmd,
// internal, migrations) from src to dst.
func copyTree(src, dst string) error {
	for _, name := range []string{"go.mod", "go.sum", "cmd", "internal", "migrations"} {
		root := filepath.Join(src, name)
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(src, path)
			target := filepath.Join(dst, rel)
			if d.IsDir() {
				return os.MkdirAll(target, 0o755)
			}
			if !d.Type().IsRegular() {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			return os.WriteFile(target, b, 0o644)
		})
		if err != nil {
			return fmt.Errorf("copy the template: %w", err)
		}
	}
	return nil
}

// rss returns a process's resident set in KiB from /proc, 0 if gone.
func rss(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// rssSampler records the peak resident set of every process it is told
// about, by process kind and by process.
type rssSampler struct {
	mu    sync.Mutex
	pids  map[string]func() int // name → current pid (0: not running)
	peak  map[string]int64      // name → KiB
	first map[string]int64      // name → KiB at the first sample
	last  map[string]int64
}

func newRSSSampler() *rssSampler {
	return &rssSampler{pids: map[string]func() int{}, peak: map[string]int64{}, first: map[string]int64{}, last: map[string]int64{}}
}

func (s *rssSampler) watch(name string, pid func() int) {
	s.mu.Lock()
	s.pids[name] = pid
	s.mu.Unlock()
}

// peaks returns the peak of each process, in KiB.
func (s *rssSampler) peaks() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.peak)
}

func (s *rssSampler) sample() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, pid := range s.pids {
		n := pid()
		if n == 0 {
			continue
		}
		kb := rss(n)
		if kb == 0 {
			continue
		}
		if _, ok := s.first[name]; !ok {
			s.first[name] = kb
		}
		s.last[name] = kb
		s.peak[name] = max(s.peak[name], kb)
	}
}

// run samples every half second until ctx ends.
func (s *rssSampler) run(ctx context.Context) {
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		s.sample()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
