//go:build unix

package tf

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestReadRegular(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	big := filepath.Join(dir, "big")
	fifo := filepath.Join(dir, "fifo")
	zero := filepath.Join(dir, "zero")
	if err := os.WriteFile(small, []byte("web: server\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(big, make([]byte, 65), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadRegular(small, 64); err != nil || string(b) != "web: server\n" {
		t.Errorf("ReadRegular(small) = %q, %v", b, err)
	}
	for name, want := range map[string]string{big: "larger than 64 bytes", fifo: "not a regular file", zero: "not a regular file"} {
		if _, err := ReadRegular(name, 64); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ReadRegular(%s) error = %v, want %q", filepath.Base(name), err, want)
		}
	}
}
