//go:build unix

package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestSkippedCodeRules checks that a run whose Go code rules could not run
// (the packages did not load within -load-timeout) fails with a message
// naming what was skipped, and passes when -skip code asked for it.
func TestSkippedCodeRules(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"go.mod":             "module example.com/svc\n\ngo 1.26.0\n",
		"cmd/server/main.go": "package main\n\nimport \"net/http\"\n\nfunc main() { s := &http.Server{}; _ = s.ListenAndServe() }\n",
	}
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The go command blocks opening a FIFO named like a Go file of the
	// service until the load timeout ends it.
	if err := syscall.Mkfifo(filepath.Join(root, "cmd", "server", "extra.go"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"-fail-on", "never", "-load-timeout", "2s", root}, &stdout, &stderr)
	if !errors.Is(err, errSkipped) || !strings.Contains(err.Error(), "module .") || !strings.Contains(err.Error(), "-skip code") {
		t.Errorf("run() = %v, want errSkipped naming the module and -skip code", err)
	}
	if !strings.Contains(stdout.String(), "n/a") {
		t.Errorf("run() stdout = %q, want the checklist written before failing", stdout.String())
	}
	stdout.Reset()
	err = run(context.Background(), []string{"-fail-on", "never", "-load-timeout", "2s", "-skip", "code", root}, &stdout, &stderr)
	if err != nil {
		t.Errorf("run(-skip code) = %v, want nil: the code rules were left out on request", err)
	}
	if !strings.Contains(stdout.String(), "skipped on request") {
		t.Errorf("run(-skip code) stdout lacks the reason the code rules are n/a:\n%s", stdout.String())
	}
	if err := run(context.Background(), []string{"-skip", "files", root}, &stdout, &stderr); err == nil || errors.Is(err, errSkipped) {
		t.Errorf("run(-skip files) = %v, want a usage error", err)
	}
}
