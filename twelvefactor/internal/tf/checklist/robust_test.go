//go:build unix

package checklist_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	tf "github.com/dozen-go/dozen/twelvefactor/internal/tf"
	"github.com/dozen-go/dozen/twelvefactor/internal/tf/checklist"
)

// runWithin runs the checklist and fails the test if it has not returned
// within the limit: a hang is the bug these tests look for.
func runWithin(t *testing.T, limit time.Duration, dir string, opts checklist.Options) (*tf.Report, error) {
	t.Helper()
	type result struct {
		rep *tf.Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		rep, err := checklist.Run(context.Background(), dir, opts)
		done <- result{rep, err}
	}()
	select {
	case r := <-done:
		return r.rep, r.err
	case <-time.After(limit):
		t.Fatalf("Run(%s) still running after %v", dir, limit)
		return nil, nil
	}
}

func mkfifo(t *testing.T, name string) {
	t.Helper()
	if err := syscall.Mkfifo(name, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
}

// TestIrregularFiles checks that FIFOs and symlinks to /dev/zero named
// like the files the rules read are left unread: no hang, no memory
// blow-up.
func TestIrregularFiles(t *testing.T) {
	for _, procfile := range []string{"fifo", "/dev/zero"} {
		t.Run("Procfile "+procfile, func(t *testing.T) {
			root := t.TempDir()
			write(t, root, map[string]string{
				"go.mod":     "module example.com/svc\n\ngo 1.26.0\n",
				"lib/lib.go": "package lib\n\nfunc Two() int { return 2 }\n",
			})
			if procfile == "fifo" {
				mkfifo(t, filepath.Join(root, "Procfile"))
			} else if err := os.Symlink(procfile, filepath.Join(root, "Procfile")); err != nil {
				t.Fatal(err)
			}
			mkfifo(t, filepath.Join(root, ".gitignore"))
			mkfifo(t, filepath.Join(root, ".env.example"))
			if err := os.Symlink("/dev/zero", filepath.Join(root, "app.json")); err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Join(root, "deploy"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("/dev/zero", filepath.Join(root, "deploy", "Dockerfile")); err != nil {
				t.Fatal(err)
			}
			rep, err := runWithin(t, 2*time.Minute, root, checklist.Options{})
			if err != nil {
				t.Fatalf("Run() error = %v", err)
			}
			if got := outcomeOf(rep, "VIII1"); got.Status != tf.NotApplicable {
				t.Errorf("VIII1 = %s %+v, want n/a: %s is not a Procfile", got.Status, got.Findings, procfile)
			}
		})
	}
}

// TestIrregularConfig checks that a FIFO named .twelvefactor.yaml is an
// error that names the file, returned at once.
func TestIrregularConfig(t *testing.T) {
	root := t.TempDir()
	mkfifo(t, filepath.Join(root, tf.ConfigFile))
	_, err := runWithin(t, 30*time.Second, root, checklist.Options{})
	if err == nil || !strings.Contains(err.Error(), tf.ConfigFile) || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("Run() error = %v, want one saying %s is not a regular file", err, tf.ConfigFile)
	}
}

// TestLoadTimeout checks that a FIFO named like a Go file, which blocks
// the go command that lists the packages, costs the load timeout and a
// note, not the run, and that the report says the code rules were skipped
// (the command fails on that) unless they were left out on request.
func TestLoadTimeout(t *testing.T) {
	root := t.TempDir()
	write(t, root, map[string]string{
		"go.mod":              "module example.com/svc\n\ngo 1.26.0\n",
		"cmd/server/main.go":  "package main\n\nimport \"net/http\"\n\nfunc main() { _ = http.ListenAndServe(\":8080\", nil) }\n",
		"cmd/server/extra.go": "", // replaced by the FIFO below
	})
	fifo := filepath.Join(root, "cmd", "server", "extra.go")
	if err := os.Remove(fifo); err != nil {
		t.Fatal(err)
	}
	mkfifo(t, fifo)
	start := time.Now()
	rep, err := runWithin(t, 2*time.Minute, root, checklist.Options{LoadTimeout: 3 * time.Second})
	if err != nil {
		t.Fatalf("Run() error = %v", err)
	}
	if !strings.Contains(strings.Join(rep.Notes, "\n"), "longer than 3s") {
		t.Errorf("Run() notes = %q, want one about the load timeout", rep.Notes)
	}
	if got := outcomeOf(rep, "IX2"); got.Status != tf.NotApplicable {
		t.Errorf("IX2 = %s, want n/a: the code could not be loaded", got.Status)
	}
	if len(rep.Skipped) != 1 || !strings.Contains(rep.Skipped[0], "longer than 3s") {
		t.Errorf("Run() skipped = %q, want the module, skipped for the load timeout", rep.Skipped)
	}
	t.Logf("returned after %v", time.Since(start))

	rep, err = runWithin(t, 2*time.Minute, root, checklist.Options{LoadTimeout: 3 * time.Second, SkipCode: true})
	if err != nil {
		t.Fatalf("Run(SkipCode) error = %v", err)
	}
	if len(rep.Skipped) > 0 {
		t.Errorf("Run(SkipCode) skipped = %q, want none: the code rules were left out on request", rep.Skipped)
	}
	if got := outcomeOf(rep, "IX2"); got.Status != tf.NotApplicable || !strings.Contains(got.Reason, "on request") {
		t.Errorf("Run(SkipCode) IX2 = %s (%s), want n/a on request", got.Status, got.Reason)
	}
}

// TestLoadServiceOnly checks that only the service's packages are loaded:
// a command-line tool beside the server that the go command cannot list
// (here, a FIFO among its files) neither blocks nor skips the code rules.
func TestLoadServiceOnly(t *testing.T) {
	root := t.TempDir()
	write(t, root, map[string]string{
		"go.mod":             "module example.com/svc\n\ngo 1.26.0\n",
		"cmd/server/main.go": "package main\n\nimport \"net/http\"\n\nfunc main() { _ = http.ListenAndServe(\":8080\", nil) }\n",
		"cmd/tool/main.go":   "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"tool\") }\n",
	})
	mkfifo(t, filepath.Join(root, "cmd", "tool", "extra.go"))
	rep, err := runWithin(t, 2*time.Minute, root, checklist.Options{LoadTimeout: 20 * time.Second})
	if err != nil {
		t.Fatalf("Run() error = %v", err)
	}
	if len(rep.Skipped) > 0 {
		t.Errorf("Run() skipped = %q, want none: the tool is not the service", rep.Skipped)
	}
	if got := outcomeOf(rep, "IX2"); got.Status == tf.NotApplicable {
		t.Errorf("IX2 = n/a (%s), want the server's bare ListenAndServe checked", got.Reason)
	}
}
