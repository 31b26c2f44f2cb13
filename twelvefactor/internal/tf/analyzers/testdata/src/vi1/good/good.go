package good

import (
	"os"
	"path/filepath"
)

func Scratch(b []byte) error {
	return os.WriteFile(filepath.Join(os.TempDir(), "scratch"), b, 0o600)
}

func Temp() (*os.File, error) { return os.CreateTemp("", "upload-*") }

func Fixed() (*os.File, error) { return os.Create("/tmp/fixed") }

// Configured writes under a directory that comes from config.
func Configured(dataDir string, b []byte) error {
	return os.WriteFile(filepath.Join(dataDir, "state"), b, 0o600)
}

func Read() (*os.File, error) { return os.OpenFile("config.json", os.O_RDONLY, 0) }
