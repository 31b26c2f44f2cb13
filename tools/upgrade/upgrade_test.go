// Package upgrade checks that a database migrated by an earlier release
// keeps working after an upgrade to this one. The earlier release is built
// from the repository's history (git archive of a pinned commit), so the
// test needs a clone with that commit; the template copied by gonew has
// no history and no tools module.
package upgrade

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dozen-go/dozen/internal/integration"
	"github.com/dozen-go/dozen/internal/postgres/pgtest"
	"github.com/dozen-go/dozen/tools/internal/proctest"
)

// earlier is the last commit whose migrations held River's tables as
// golang-migrate files of their own (versions 4 to 11), recording nothing
// in river_migration.
const earlier = "31b66eb6e79777b6506f5b3ad29ee768944e5017"

// oldBin and newBin are where TestMain built the earlier release's
// binaries and this one's; skip says why there are none.
var oldBin, newBin, skip string

func TestMain(m *testing.M) {
	code, err := buildAndRun(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "upgrade:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func buildAndRun(m *testing.M) (int, error) {
	root, err := filepath.Abs("../..")
	if err != nil {
		return 0, err
	}
	if err := exec.Command("git", "-C", root, "cat-file", "-e", earlier+"^{commit}").Run(); err != nil {
		skip = "the repository has no commit " + earlier[:7] + " (a shallow clone?): fetch the full history to run the upgrade test"
		return m.Run(), nil
	}
	dir, err := os.MkdirTemp("", "dozen-upgrade")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	src := filepath.Join(dir, "src")
	oldBin, newBin = filepath.Join(dir, "old")+"/", filepath.Join(dir, "new")+"/"
	if err := os.Mkdir(src, 0o755); err != nil {
		return 0, err
	}
	// The earlier release's source, as it was committed.
	archive := exec.Command("git", "-C", root, "archive", "--format=tar", earlier)
	var archiveErr strings.Builder
	archive.Stderr = &archiveErr
	extract := exec.Command("tar", "-x", "-C", src)
	if extract.Stdin, err = archive.StdoutPipe(); err != nil {
		return 0, err
	}
	if err := archive.Start(); err != nil {
		return 0, err
	}
	if out, err := extract.CombinedOutput(); err != nil {
		_ = archive.Wait()
		return 0, fmt.Errorf("extract %s: %w\n%s", earlier, err, out)
	}
	if err := archive.Wait(); err != nil {
		return 0, fmt.Errorf("git archive %s: %w\n%s", earlier, err, archiveErr.String())
	}
	for _, b := range []struct{ dir, out string }{{src, oldBin}, {root, newBin}} {
		// Plain flags, so that the builds share the cache of go build.
		cmd := exec.Command("go", "build", "-buildvcs=false", "-o", b.out, "./cmd/server", "./cmd/worker", "./cmd/admin")
		cmd.Dir = b.dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return 0, fmt.Errorf("build in %s: %w\n%s", b.dir, err, out)
		}
	}
	return m.Run(), nil
}

const token = "upgrade-token-0123456789abcdef"

// TestUpgradeFromRiverFiles migrates a fresh database with the earlier
// release, which serves a link and counts its redirects (the clicks wait,
// with their fold job, for a worker); then this release's admin migrate up
// records River's versions instead of creating River's tables again, and
// this release's worker runs the fold job the earlier release queued.
// Rolling back is bounded as before: the database's version is still
// one this release has.
func TestUpgradeFromRiverFiles(t *testing.T) {
	if skip != "" {
		if os.Getenv(integration.Require) == "1" {
			t.Fatal(skip)
		}
		t.Skip(skip)
	}
	for _, dialect := range []string{"postgres", "sqlite"} {
		t.Run(dialect, func(t *testing.T) {
			env := map[string]string{
				"DATA_DIR":             t.TempDir(),
				"API_TOKENS":           token,
				"CLICK_FLUSH_INTERVAL": "100ms",
				"JOB_POLL_INTERVAL":    "100ms",
				"DRAIN_DELAY":          "0s",
				"LOG_FLUSH_INTERVAL":   "0s",
				"LOG_LEVEL":            "warn",
			}
			if dialect == "postgres" {
				env["DATABASE_URL"] = pgtest.NewDatabase(t).Value()
			}
			upgrade(t, env)
		})
	}
}

func upgrade(t *testing.T, env map[string]string) {
	// The earlier release: migrate, create a link, follow it.
	if out := admin(t, oldBin, env, 0, "migrate", "up"); !strings.Contains(out, "to 12 (12 applied") {
		t.Fatalf("the earlier release's admin migrate up printed %q, want its 12 migrations applied", out)
	}
	const redirects = 5
	old := start(t, oldBin, "server", env)
	createLink(t, old.public, "upgrade")
	c := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for range redirects {
		if code := status(t, c, old.public+"/upgrade"); code != http.StatusFound && code != http.StatusMovedPermanently {
			t.Fatalf("GET /upgrade = %d, want a redirect", code)
		}
	}
	old.stop(t) // flushes the clicks and queues their fold

	// This release, before the release step: the schema is behind, so the
	// server refuses to start and names the release step (in embedded mode
	// it migrates its own file instead). That the check covers River's part
	// alone is internal/schema's TestAdoptsRiverTablesOfEarlierReleases.
	if _, ok := env["DATABASE_URL"]; ok {
		if out := refused(t, newBin, "server", env); !strings.Contains(out, "admin migrate up") {
			t.Errorf("this release's server before admin migrate up said %q, want a refusal naming admin migrate up", out)
		}
	}
	if out := admin(t, newBin, env, 0, "migrate", "status"); !strings.Contains(out, "versions 1 to 8 were applied by an earlier release's migration files") {
		t.Errorf("admin migrate status before the upgrade printed %q, want River's versions 1 to 8 seen as applied by the earlier files", out)
	}

	// The release step: River's versions are recorded, not applied again.
	out := admin(t, newBin, env, 0, "migrate", "up")
	if !strings.Contains(out, "river: recorded versions 1 to 8") || !strings.Contains(out, "river: no change") {
		t.Errorf("admin migrate up printed %q, want River's versions 1 to 8 recorded and none applied", out)
	}
	out = admin(t, newBin, env, 0, "migrate", "status")
	if !strings.Contains(out, "pending:  none") || !strings.Contains(out, "dirty:    no") || !strings.Contains(out, ", pending none") {
		t.Errorf("admin migrate status after the upgrade printed %q, want both parts current and clean", out)
	}

	// This release's worker runs the fold the earlier release queued.
	worker := start(t, newBin, "worker", env)
	server := start(t, newBin, "server", env)
	deadline := time.Now().Add(30 * time.Second)
	for got := -1; got != redirects; time.Sleep(100 * time.Millisecond) {
		if got = clicks(t, server.public, "upgrade"); time.Now().After(deadline) {
			t.Fatalf("clicks = %d 30s after the upgrade, want %d: the worker did not run the queued fold", got, redirects)
		}
	}
	// And the jobs this release queues: more redirects, folded too.
	for range redirects {
		status(t, c, server.public+"/upgrade")
	}
	for got := -1; got != 2*redirects; time.Sleep(100 * time.Millisecond) {
		if got = clicks(t, server.public, "upgrade"); time.Now().After(deadline) {
			t.Fatalf("clicks = %d, want %d: the worker did not fold this release's clicks", got, 2*redirects)
		}
	}
	server.stop(t)
	worker.stop(t)

	// Rolling back stays bounded by what is applied.
	out = admin(t, newBin, env, 1, "migrate", "down", "99")
	if !strings.Contains(out, "asked to roll back 99 migrations, but only") {
		t.Errorf("admin migrate down 99 printed %q, want a refusal", out)
	}
	if out := admin(t, newBin, env, 0, "migrate", "down", "1"); !strings.Contains(out, "rolled back 1") {
		t.Errorf("admin migrate down 1 printed %q", out)
	}
	if out := admin(t, newBin, env, 0, "migrate", "up"); !strings.Contains(out, "1 applied") || !strings.Contains(out, "river: no change") {
		t.Errorf("admin migrate up after down 1 printed %q, want the one migration applied again", out)
	}
}

// admin runs bin's admin with env and args, checks its exit code, and
// returns what it printed.
func admin(t *testing.T, bin string, env map[string]string, wantCode int, args ...string) string {
	t.Helper()
	out, err := command(bin, "admin", env, args...).CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if code != wantCode {
		t.Fatalf("%sadmin %s = exit %d, want %d\n%s", bin, strings.Join(args, " "), code, wantCode, out)
	}
	return string(out)
}

// command returns bin's binary name with exactly the environment env.
func command(bin, name string, env map[string]string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(bin, name), args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return cmd
}

// refused runs bin's long-running process name, which must exit with an
// error within 30 seconds, and returns what it printed.
func refused(t *testing.T, bin, name string, env map[string]string) string {
	t.Helper()
	env = withListeners(t, name, env)
	cmd := command(bin, name, env)
	cmd.Env = append(cmd.Env, "DATABASE_CONNECT_ATTEMPTS=1")
	done := make(chan struct{})
	var out []byte
	var err error
	go func() {
		out, err = cmd.CombinedOutput()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("%s still running after 30s, want it to refuse to start", name)
	}
	if err == nil {
		t.Fatalf("%s exited 0, want it to refuse to start\n%s", name, out)
	}
	return string(out)
}

// process is a running binary.
type process struct {
	cmd    *exec.Cmd
	public string // base URL of the public listener; "" for the worker
	exited chan struct{}
	stderr strings.Builder
}

// withListeners returns env with free loopback ports for name's
// listeners.
func withListeners(t *testing.T, name string, env map[string]string) map[string]string {
	t.Helper()
	all := map[string]string{"ADMIN_ADDR": "127.0.0.1:" + strconv.Itoa(proctest.FreePort(t))}
	if name == "server" {
		all["PORT"] = strconv.Itoa(proctest.FreePort(t))
	}
	for k, v := range env {
		all[k] = v
	}
	return all
}

// start runs bin's long-running process name with env and waits until it
// is ready. It is stopped when the test ends.
func start(t *testing.T, bin, name string, env map[string]string) *process {
	t.Helper()
	env = withListeners(t, name, env)
	p := &process{cmd: command(bin, name, env), exited: make(chan struct{})}
	if name == "server" {
		p.public = "http://127.0.0.1:" + env["PORT"]
	}
	// One writer for both, so at most one goroutine writes at a time.
	p.cmd.Stdout = &p.stderr
	p.cmd.Stderr = &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("%s's output:\n%s", name, p.stderr.String())
		}
	})
	proctest.WaitOK(t, "http://"+env["ADMIN_ADDR"]+"/readyz", p.exited)
	return p
}

// stop sends SIGTERM and waits for the exit.
func (p *process) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("still running 30s after SIGTERM")
	}
}

// createLink creates a link with the code through the server's API.
func createLink(t *testing.T, base, code string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/links", strings.NewReader(`{"url":"https://example.com","code":"`+code+`"}`))
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

// status returns the status code of GET url.
func status(t *testing.T, c *http.Client, url string) int {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// clicks returns the link's stored count of redirects.
func clicks(t *testing.T, base, code string) int {
	t.Helper()
	resp, err := http.Get(base + "/v1/links/" + code)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var l struct {
		Clicks int `json:"clicks"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&l) != nil {
		t.Fatalf("GET /v1/links/%s = %d, want 200 with the link", code, resp.StatusCode)
	}
	return l.Clicks
}
