package deploy

import (
	"io"
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
		{"the twelve-factor linter, by module path at a pinned version", `go run ` + regexp.QuoteMeta(linterModule(t)) + `@v[0-9.]+ \.`},
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
