package deploy

import (
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
	"sigs.k8s.io/yaml"
)

const workflow = ".github/workflows/ci.yml"

// TestWorkflowLints runs actionlint on the CI workflow: syntax, job and
// step keys, expressions, action inputs of the popular actions, runner
// labels. Any finding fails the test.
func TestWorkflowLints(t *testing.T) {
	linter, err := actionlint.NewLinter(io.Discard, &actionlint.LinterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	errs, err := linter.LintFile(filepath.Join(root, workflow), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range errs {
		t.Errorf("%s:%d:%d: %s [%s]", workflow, e.Line, e.Column, e.Message, e.Kind)
	}
}

// ciWorkflow is the part of the workflow that the content checks read.
type ciWorkflow struct {
	Jobs map[string]struct {
		Services map[string]struct {
			Image string `json:"image"`
		} `json:"services"`
		Steps []struct {
			Uses string            `json:"uses"`
			Run  string            `json:"run"`
			With map[string]string `json:"with"`
		} `json:"steps"`
	} `json:"jobs"`
}

// TestWorkflowRunsTheChecks checks that CI runs what the README promises,
// against Postgres and Redis service containers.
func TestWorkflowRunsTheChecks(t *testing.T) {
	var wf ciWorkflow
	if err := yaml.Unmarshal([]byte(readFile(t, workflow)), &wf); err != nil {
		t.Fatal(err)
	}
	var steps, images []string
	for _, job := range wf.Jobs {
		for _, s := range job.Steps {
			steps = append(steps, s.Uses+" "+s.Run)
			if strings.HasPrefix(s.Uses, "actions/setup-go@") && s.With["go-version-file"] != "go.mod" {
				t.Errorf("%s: setup-go without go-version-file: go.mod; the toolchain would drift from go.mod", workflow)
			}
		}
		for _, svc := range job.Services {
			images = append(images, svc.Image)
		}
	}
	all := strings.Join(steps, "\n")
	checks := []struct{ what, pattern string }{
		{".ci/run (gofmt, go vet, race tests)", `bash \.ci/run`},
		{"golangci-lint", `golangci/golangci-lint-action@`},
		{"govulncheck", `govulncheck@v[0-9.]+ \./\.\.\.`},
		{"the twelve-factor linter", `go run \./cmd/twelvefactor \.`},
		{"gonew", `gonew@v[0-9.]+`},
		{"a build of the gonew project", `go build \./\.\.\.`},
		{"a vet of the gonew project", `go vet \./\.\.\.`},
	}
	for _, c := range checks {
		if !regexp.MustCompile(c.pattern).MatchString(all) {
			t.Errorf("%s does not run %s (no step matches %q)", workflow, c.what, c.pattern)
		}
	}
	ciRun := readFile(t, ".ci/run")
	for _, want := range []string{"go vet ./...", "go test -race"} {
		if !strings.Contains(ciRun, want) {
			t.Errorf(".ci/run does not run %s, which the workflow relies on", want)
		}
	}
	for _, want := range []string{"postgres:", "redis:"} {
		if !slices.ContainsFunc(images, func(i string) bool { return strings.HasPrefix(i, want) }) {
			t.Errorf("%s has no %s service container (images: %q)", workflow, strings.TrimSuffix(want, ":"), images)
		}
	}
}

// composeFile is the part of the compose specification compose.yaml
// uses; decoding rejects other fields, so a misspelt key fails.
type composeFile struct {
	Name     string `json:"name"`
	Services map[string]struct {
		Image       string            `json:"image"`
		Build       string            `json:"build"`
		Command     []string          `json:"command"`
		Profiles    []string          `json:"profiles"`
		Environment map[string]string `json:"environment"`
		Ports       []string          `json:"ports"`
		Volumes     []string          `json:"volumes"`
		Healthcheck *struct {
			Test     []string `json:"test"`
			Interval string   `json:"interval"`
			Timeout  string   `json:"timeout"`
			Retries  int      `json:"retries"`
		} `json:"healthcheck"`
		DependsOn map[string]struct {
			Condition string `json:"condition"`
		} `json:"depends_on"`
	} `json:"services"`
	Volumes map[string]any `json:"volumes"`
}

// TestCompose checks compose.yaml: the production backing services with
// healthchecks; every long-running process type behind the app profile,
// built from the Dockerfile, waiting for healthy services, configured
// with real settings only.
func TestCompose(t *testing.T) {
	var c composeFile
	if err := yaml.UnmarshalStrict([]byte(readFile(t, "compose.yaml")), &c); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	backing := []string{"postgres", "redis"}
	for _, name := range backing {
		s, ok := c.Services[name]
		if !ok {
			t.Errorf("compose.yaml has no %s service", name)
			continue
		}
		if s.Healthcheck == nil || len(s.Healthcheck.Test) == 0 {
			t.Errorf("compose.yaml %s has no healthcheck", name)
		}
		if !strings.HasPrefix(s.Image, name+":") || strings.HasSuffix(s.Image, ":latest") {
			t.Errorf("compose.yaml %s image %q: want %s:VERSION", name, s.Image, name)
		}
		if len(s.Profiles) > 0 {
			t.Errorf("compose.yaml %s is behind a profile; backing services start by default", name)
		}
	}
	settings := map[string]bool{}
	for _, v := range configVars() {
		settings[v] = true
	}
	ran := map[string]bool{}
	for name, s := range c.Services {
		if slices.Contains(backing, name) {
			continue
		}
		at := "compose.yaml " + name
		if !slices.Contains(s.Profiles, "app") {
			t.Errorf("%s: want profiles [app], so that docker compose up starts only the backing services", at)
		}
		if s.Build != "." {
			t.Errorf("%s: build %q, want . (the Dockerfile)", at, s.Build)
		}
		if cmd, ok := strings.CutPrefix(strings.Join(s.Command, " "), "/usr/local/bin/"); ok {
			ran[cmd] = true
		} else {
			t.Errorf("%s: command %q, want /usr/local/bin/PROCESS", at, s.Command)
		}
		for k := range s.Environment {
			if !settings[k] {
				t.Errorf("%s: environment %s is not a setting of internal/config", at, k)
			}
		}
		for _, b := range backing {
			if s.DependsOn[b].Condition != "service_healthy" {
				t.Errorf("%s: want depends_on %s: condition: service_healthy", at, b)
			}
		}
	}
	for _, p := range processes {
		if p.procType == "release" {
			continue
		}
		if !ran[strings.TrimSpace(p.cmd+" "+p.args)] {
			t.Errorf("compose.yaml runs no %s process (%s)", p.procType, p.cmd)
		}
	}
}

// TestMakefile runs make help and checks the targets a newcomer looks for.
func TestMakefile(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	cmd := exec.Command("make", "--no-print-directory", "help")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make help: %v\n%s", err, out)
	}
	want := []string{"help", "run", "test", "lint", "build", "docker", "tidy"}
	if _, ok := processOf("admin"); ok {
		want = append(want, "migrate")
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			t.Errorf("make help line %q: want TARGET DESCRIPTION", l)
			continue
		}
		got = append(got, f[0])
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("make help lists %q, want %s among them", got, w)
		}
	}
	// Every target expands (make -n), so a typo in a variable shows here.
	for _, target := range got {
		cmd := exec.Command("make", "-n", target)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("make -n %s: %v\n%s", target, err, out)
		}
	}
}
