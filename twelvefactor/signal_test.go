//go:build unix

package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestMain lets a test run the command itself: with TWELVEFACTOR_DIR set,
// the test binary is twelvefactor checking that directory.
func TestMain(m *testing.M) {
	if dir, ok := os.LookupEnv("TWELVEFACTOR_DIR"); ok {
		os.Args = []string{"twelvefactor", "-color", "never", dir}
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestSIGTERM checks that the command stops soon after SIGTERM while the
// Go packages load, here blocked on a FIFO named like a Go file, and
// exits with status 2.
func TestSIGTERM(t *testing.T) {
	root := t.TempDir()
	for name, content := range map[string]string{
		"go.mod":  "module example.com/svc\n\ngo 1.26.0\n",
		"main.go": "package main\n\nimport \"net/http\"\n\nfunc main() { _ = http.ListenAndServe(\":8080\", nil) }\n",
	} {
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(root, "blocked.go"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "TWELVEFACTOR_DIR="+root)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	time.Sleep(2 * time.Second) // into the package load, which blocks
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 2 {
			t.Errorf("after SIGTERM the command ended with %v, want exit status 2", err)
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the command ignored SIGTERM for 30s")
	}
}
