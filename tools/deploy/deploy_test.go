// Package deploy holds the offline checks of the deployment artifacts: the
// Dockerfile, the Procfile and app.json, the Kubernetes manifests, the CI
// workflow and the template's gonew contract. It has only tests, so its
// dependencies (kustomize, the Kubernetes API types, actionlint) never
// reach a binary.
package deploy

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/dozen-go/dozen/internal/config"
)

// process is one process type (factor VIII): a main package under cmd/
// that ships in the image and runs on Heroku and Kubernetes. Adding a
// process is one line here; the tests then find every artifact that does
// not run it yet.
type process struct {
	cmd      string // cmd/<cmd>: the binary's name in bin/ (Heroku) and /usr/local/bin/ (image)
	procType string // its Procfile process type
	args     string // arguments after the binary, on its Procfile line and in its Kubernetes command
	workload string // the Kubernetes kind that runs it: Deployment or Job
}

var processes = []process{
	{cmd: "server", procType: "web", workload: "Deployment"},
	{cmd: "admin", procType: "release", args: "migrate up", workload: "Job"},
	{cmd: "worker", procType: "worker", workload: "Deployment"},
}

// root is the repository's top directory.
const root = "../.."

// processOf returns the process type that cmd/<cmd> is, if any.
func processOf(cmd string) (process, bool) {
	i := slices.IndexFunc(processes, func(p process) bool { return p.cmd == cmd })
	if i < 0 {
		return process{}, false
	}
	return processes[i], true
}

func TestEveryCommandIsAProcessOrATool(t *testing.T) {
	dirs, err := os.ReadDir(filepath.Join(root, "cmd"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if _, ok := processOf(d.Name()); !ok {
			t.Errorf("cmd/%s is not in processes (tools/deploy/deploy_test.go): "+
				"add it, and the Dockerfile, Procfile, go.mod +heroku and Kubernetes lines the tests then ask for", d.Name())
		}
	}
	for _, p := range processes {
		if _, err := os.Stat(filepath.Join(root, "cmd", p.cmd, "main.go")); err != nil {
			t.Errorf("process %s: %v", p.cmd, err)
		}
	}
}

// readFile returns a repository file's contents.
func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// goCmd runs the go command in dir with extra environment and returns its
// combined output, failing the test if it fails.
func goCmd(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// tracingVars returns the OTEL_* variables deploy files may set, with
// their descriptions: the OpenTelemetry SDK reads them, not
// internal/config. The SDK reads others too; these are the ones a
// deployment needs, and the README's configuration section lists.
func tracingVars() map[string]string {
	return map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT":        "collector URL, e.g. http://collector:4318 (http/protobuf) or http://collector:4317 (grpc); unset, tracing is off",
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "the full traces URL, instead of OTEL_EXPORTER_OTLP_ENDPOINT",
		"OTEL_EXPORTER_OTLP_PROTOCOL":        "grpc or http/protobuf (default http/protobuf)",
		"OTEL_EXPORTER_OTLP_HEADERS":         "key=value,... sent with each export, such as a vendor's API key",
		"OTEL_SERVICE_NAME":                  "service.name of every span (default: the process, server or worker)",
		"OTEL_RESOURCE_ATTRIBUTES":           "key=value,... added to every span, such as deployment.environment.name=prod",
		"OTEL_TRACES_SAMPLER":                "always_on, always_off, traceidratio, parentbased_traceidratio, ... (default parentbased_always_on)",
		"OTEL_TRACES_SAMPLER_ARG":            "the ratio of the traceidratio samplers, such as 0.1",
		"OTEL_SDK_DISABLED":                  "true turns tracing off whatever else is set",
	}
}

// configVars returns the names of every setting of internal/config.
func configVars() []string {
	var names []string
	for _, v := range config.Vars(&config.Config{}) {
		names = append(names, v.Name)
	}
	return names
}

// lockedBuffer collects a process's output, written and read from
// different goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
