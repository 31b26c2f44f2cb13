package deploy

import (
	"bufio"
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/dozen-go/dozen/internal/config"
	"github.com/dozen-go/dozen/internal/integration"
	"github.com/dozen-go/dozen/internal/postgres/pgtest"
	"github.com/dozen-go/dozen/tools/internal/proctest"
)

// herokuGrace is how long Heroku waits after SIGTERM before SIGKILL.
const herokuGrace = 30 * time.Second

// platformSet are the settings that Heroku or its add-ons set, so app.json
// does not list them.
var platformSet = []string{"PORT", "DATABASE_URL", "REDIS_URL"}

// procfileLine is one process type of the Procfile.
type procfileLine struct {
	procType, command string
}

func parseProcfile(t *testing.T) []procfileLine {
	t.Helper()
	var lines []procfileLine
	for i, l := range strings.Split(readFile(t, "Procfile"), "\n") {
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			continue
		}
		typ, cmd, ok := strings.Cut(l, ":")
		if !ok || strings.TrimSpace(cmd) == "" || strings.ContainsAny(typ, " \t") {
			t.Fatalf("Procfile line %d %q: want TYPE: COMMAND", i+1, l)
		}
		lines = append(lines, procfileLine{typ, strings.TrimSpace(cmd)})
	}
	return lines
}

func TestProcfile(t *testing.T) {
	lines := parseProcfile(t)
	byType := map[string]string{}
	for _, l := range lines {
		if _, dup := byType[l.procType]; dup {
			t.Errorf("Procfile lists %s twice", l.procType)
		}
		byType[l.procType] = l.command
		bin, _, _ := strings.Cut(l.command, " ")
		if _, ok := processOf(bin); !ok {
			t.Errorf("Procfile %s: %s runs %s, which is not a process type", l.procType, l.command, bin)
		}
	}
	for _, p := range processes {
		want := strings.TrimSpace(p.cmd + " " + p.args)
		if got := byType[p.procType]; got != want {
			t.Errorf("Procfile %s: %q, want %q", p.procType, got, want)
		}
	}
}

// herokuDirectives returns the values of go.mod's // +heroku comments.
func herokuDirectives(t *testing.T) map[string][]string {
	t.Helper()
	d := map[string][]string{}
	for _, l := range strings.Split(readFile(t, "go.mod"), "\n") {
		if rest, ok := strings.CutPrefix(l, "// +heroku "); ok {
			f := strings.Fields(rest)
			d[f[0]] = f[1:]
		}
	}
	return d
}

func TestGoModHerokuDirectives(t *testing.T) {
	d := herokuDirectives(t)
	var want []string
	for _, p := range processes {
		want = append(want, "./cmd/"+p.cmd)
	}
	if diff := cmp.Diff(want, d["install"], cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("go.mod // +heroku install (-want +got):\n%s", diff)
	}
	// The buildpack's Go is the go directive's minor version, latest patch.
	goLine := strings.Fields(strings.SplitN(readFile(t, "go.mod"), "\ngo ", 2)[1])[0]
	parts := strings.SplitN(goLine, ".", 3)
	if wantGo := []string{"go" + parts[0] + "." + parts[1]}; !slices.Equal(d["goVersion"], wantGo) {
		t.Errorf("go.mod // +heroku goVersion %q, want %q (the go directive is %s)", d["goVersion"], wantGo, goLine)
	}
}

// appJSON is the part of Heroku's app.json schema this project uses;
// decoding rejects any other field, so a typo fails the test.
type appJSON struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Keywords    []string `json:"keywords"`
	Buildpacks  []struct {
		URL string `json:"url"`
	} `json:"buildpacks"`
	Formation map[string]struct {
		Quantity int    `json:"quantity"`
		Size     string `json:"size"`
	} `json:"formation"`
	Addons []struct {
		Plan string `json:"plan"`
		As   string `json:"as"`
	} `json:"addons"`
	Env map[string]struct {
		Description string `json:"description"`
		Value       string `json:"value"`
		Required    bool   `json:"required"`
		Generator   string `json:"generator"`
	} `json:"env"`
}

func readAppJSON(t *testing.T) appJSON {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(readFile(t, "app.json")))
	dec.DisallowUnknownFields()
	var app appJSON
	if err := dec.Decode(&app); err != nil {
		t.Fatalf("app.json: %v", err)
	}
	return app
}

func TestAppJSON(t *testing.T) {
	app := readAppJSON(t)
	if len(app.Buildpacks) != 1 || app.Buildpacks[0].URL != "heroku/go" {
		t.Errorf("app.json buildpacks = %+v, want heroku/go", app.Buildpacks)
	}
	var plans []string
	for _, a := range app.Addons {
		plan, _, _ := strings.Cut(a.Plan, ":")
		plans = append(plans, plan)
	}
	for _, want := range []string{"heroku-postgresql", "heroku-redis"} {
		if !slices.Contains(plans, want) {
			t.Errorf("app.json add-ons %q lack %s", plans, want)
		}
	}

	// Formation: every long-running process type, and nothing else.
	var wantFormation []string
	for _, l := range parseProcfile(t) {
		if l.procType != "release" {
			wantFormation = append(wantFormation, l.procType)
		}
	}
	slices.Sort(wantFormation)
	if got := slices.Sorted(maps.Keys(app.Formation)); !slices.Equal(got, wantFormation) {
		t.Errorf("app.json formation = %q, want the Procfile's process types %q", got, wantFormation)
	}

	// Env: every setting but the platform's, each described, and nothing else.
	settings := map[string]config.Var{}
	for _, v := range config.Vars(&config.Config{}) {
		settings[v.Name] = v
		if slices.Contains(platformSet, v.Name) {
			continue
		}
		e, ok := app.Env[v.Name]
		if !ok {
			t.Errorf("app.json env lacks %s", v.Name)
			continue
		}
		if !strings.Contains(e.Description, v.Description) {
			t.Errorf("app.json env %s description = %q, want it to contain %q", v.Name, e.Description, v.Description)
		}
		if v.Secret && e.Generator != "secret" {
			t.Errorf("app.json env %s is a secret: want generator: secret", v.Name)
		}
	}
	env := map[string]string{}
	otel := tracingVars()
	for name, e := range app.Env {
		if desc, ok := otel[name]; ok {
			if !strings.Contains(e.Description, desc) || e.Required {
				t.Errorf("app.json env %s: want required false and description %q", name, desc)
			}
			continue
		}
		if _, ok := settings[name]; !ok || slices.Contains(platformSet, name) {
			t.Errorf("app.json env %s is not a setting of internal/config that Heroku leaves to the app", name)
		}
		if e.Value != "" {
			env[name] = e.Value
		}
	}
	if env["TRUSTED_PROXIES"] != "1" {
		t.Errorf("app.json TRUSTED_PROXIES = %q, want 1: Heroku's router appends one X-Forwarded-For entry", env["TRUSTED_PROXIES"])
	}
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatalf("app.json values do not load: %v", err)
	}
	if budget := cfg.Shutdown.DrainDelay + cfg.Shutdown.Timeout; budget >= herokuGrace {
		t.Errorf("DRAIN_DELAY + SHUTDOWN_TIMEOUT = %s on Heroku, want under its %s grace period", budget, herokuGrace)
	}
}

// readEnvFile parses a .env file: NAME=VALUE lines, # comments.
func readEnvFile(t *testing.T, name string) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, l := range strings.Split(readFile(t, name), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(l), "="); ok && !strings.HasPrefix(k, "#") {
			env[k] = v
		}
	}
	return env
}

// dyno is one process started from a Procfile line, as Heroku starts a
// dyno: bash -c COMMAND in the app directory, with bin/ on the PATH.
type dyno struct {
	procfileLine
	cmd    *exec.Cmd
	out    *lockedBuffer
	exited chan struct{}
	err    error
}

func startDyno(t *testing.T, app string, l procfileLine, env map[string]string) *dyno {
	t.Helper()
	d := &dyno{procfileLine: l, out: &lockedBuffer{}, exited: make(chan struct{})}
	d.cmd = exec.Command("bash", "-c", l.command)
	d.cmd.Dir = app
	for k, v := range env {
		d.cmd.Env = append(d.cmd.Env, k+"="+v)
	}
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.out
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", l.procType, err)
	}
	go func() { d.err = d.cmd.Wait(); close(d.exited) }()
	t.Cleanup(func() {
		syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
		<-d.exited
	})
	return d
}

// stop sends SIGTERM to every process of the dyno, as Heroku does, and
// waits up to Heroku's grace period.
func (d *dyno) stop(t *testing.T) {
	t.Helper()
	syscall.Kill(-d.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(herokuGrace):
		t.Errorf("%s: still running %s after SIGTERM; Heroku would kill it", d.procType, herokuGrace)
	}
}

// TestProcfileRunsAsOnHeroku builds the app as the Go buildpack does (go
// install -tags heroku of the +heroku install packages, with GOBIN=bin)
// and runs its Procfile, without add-ons (embedded database) and with
// them (DATABASE_URL and REDIS_URL on the test servers, as the Postgres
// and Redis add-ons set them).
func TestProcfileRunsAsOnHeroku(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "bin")
	pkgs := herokuDirectives(t)["install"]
	goCmd(t, root, []string{"GOBIN=" + bin}, append([]string{"install", "-tags", "heroku"}, pkgs...)...)

	t.Run("no add-ons", func(t *testing.T) {
		runProcfile(t, bin, nil)
	})
	t.Run("postgres and redis add-ons", func(t *testing.T) {
		redisURL := os.Getenv("TEST_REDIS_URL")
		if redisURL == "" {
			integration.Skip(t, "TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
		}
		runProcfile(t, bin, map[string]string{
			"DATABASE_URL": pgtest.NewDatabase(t).Value(),
			"REDIS_URL":    redisURL,
		})
	})
}

// runProcfile runs the Procfile with the binaries in bin and the .env made
// from .env.example plus addons: release first, to a zero exit; then every
// other process type, each with its own PORT and ADMIN_ADDR as on its own
// dyno; each listens, web answers /livez and /readyz on $PORT, none falls
// over; SIGTERM stops them all with exit 0.
func runProcfile(t *testing.T, bin string, addons map[string]string) {
	app := t.TempDir() // the dynos' working directory, for the embedded database
	base := readEnvFile(t, ".env.example")
	maps.Copy(base, addons)
	base["PATH"] = bin + string(os.PathListSeparator) + os.Getenv("PATH")
	base["DRAIN_DELAY"] = "0s" // no load balancer here to wait for
	dynoEnv := func() map[string]string {
		env := maps.Clone(base)
		env["PORT"] = strconv.Itoa(proctest.FreePort(t))
		env["ADMIN_ADDR"] = "127.0.0.1:" + strconv.Itoa(proctest.FreePort(t))
		return env
	}

	lines := parseProcfile(t)
	for _, l := range lines {
		if l.procType != "release" {
			continue
		}
		d := startDyno(t, app, l, dynoEnv())
		select {
		case <-d.exited:
		case <-time.After(time.Minute):
			t.Fatalf("release %q still running after a minute:\n%s", l.command, d.out)
		}
		if d.err != nil {
			t.Fatalf("release %q: %v, want exit 0:\n%s", l.command, d.err, d.out)
		}
	}

	var dynos []*dyno
	for _, l := range lines {
		if l.procType == "release" {
			continue
		}
		env := dynoEnv()
		d := startDyno(t, app, l, env)
		dynos = append(dynos, d)
		waitListening(t, l.procType, env["ADMIN_ADDR"], d.exited, d.out)
		if l.procType == "web" {
			proctest.WaitOK(t, "http://127.0.0.1:"+env["PORT"]+"/livez", d.exited)
			proctest.WaitOK(t, "http://127.0.0.1:"+env["PORT"]+"/readyz", d.exited)
		}
	}
	time.Sleep(500 * time.Millisecond) // long enough for a broken process to fall over
	for _, d := range dynos {
		select {
		case <-d.exited:
			t.Errorf("%s %q exited while it should run: %v\n%s", d.procType, d.command, d.err, d.out)
		default:
		}
	}
	for _, d := range dynos {
		d.stop(t)
		if d.err != nil {
			t.Errorf("%s %q after SIGTERM: %v, want exit 0\n%s", d.procType, d.command, d.err, d.out)
		}
	}
	for _, d := range dynos {
		logOutput(t, d)
	}
}

// logOutput logs a dyno's last lines, for the -v reader.
func logOutput(t *testing.T, d *dyno) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(d.out.String()))
	var last []string
	for sc.Scan() {
		last = append(last, sc.Text())
	}
	if len(last) > 3 {
		last = last[len(last)-3:]
	}
	t.Logf("%s: %s", d.procType, strings.Join(last, "\n\t"))
}
