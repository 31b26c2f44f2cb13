package bad

import (
	"os"
	"path/filepath"
)

func Save(b []byte) error {
	return os.WriteFile("data/cache.json", b, 0o600) // want `os.WriteFile writes to the fixed local path "data/cache.json"`
}

func Upload(id string) error {
	return os.MkdirAll(filepath.Join("uploads", id), 0o700) // want `os.MkdirAll writes to the fixed local path "uploads"`
}

func Append() (*os.File, error) {
	return os.OpenFile("/var/log/app.log", os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600) // want `os.OpenFile writes to the fixed local path "/var/log/app.log"`
}
