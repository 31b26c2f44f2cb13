package deploy

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

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
// with real settings only; a trace backend behind the tracing profile.
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
	for v := range tracingVars() {
		settings[v] = true
	}
	// Tools beside the app: a trace backend, started on request only.
	var tools []string
	for name, s := range c.Services {
		if slices.Contains(s.Profiles, "tracing") {
			tools = append(tools, name)
			if s.Image == "" || strings.HasSuffix(s.Image, ":latest") || !strings.Contains(s.Image, ":") {
				t.Errorf("compose.yaml %s image %q: want a pinned version", name, s.Image)
			}
		}
	}
	if len(tools) == 0 {
		t.Error("compose.yaml has no service behind the tracing profile")
	}
	notApp := append(slices.Clone(backing), tools...)
	ran := map[string]string{} // process command line: the service running it
	for name, s := range c.Services {
		if slices.Contains(notApp, name) {
			continue
		}
		ran[strings.TrimPrefix(strings.Join(s.Command, " "), "/usr/local/bin/")] = name
	}
	var release string // the service that must finish before the others start
	for _, p := range processes {
		svc, ok := ran[strings.TrimSpace(p.cmd+" "+p.args)]
		if !ok {
			t.Errorf("compose.yaml runs no %s process (%s)", p.procType, strings.TrimSpace(p.cmd+" "+p.args))
		}
		if p.procType == "release" {
			release = svc
		}
	}
	for name, s := range c.Services {
		if slices.Contains(notApp, name) {
			continue
		}
		at := "compose.yaml " + name
		if !slices.Contains(s.Profiles, "app") {
			t.Errorf("%s: want profiles [app], so that docker compose up starts only the backing services", at)
		}
		if s.Build != "." {
			t.Errorf("%s: build %q, want . (the Dockerfile)", at, s.Build)
		}
		if !strings.HasPrefix(firstOr(s.Command), "/usr/local/bin/") {
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
		if release != "" && name != release && s.DependsOn[release].Condition != "service_completed_successfully" {
			t.Errorf("%s: want depends_on %s: condition: service_completed_successfully, as on Heroku and Kubernetes", at, release)
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
