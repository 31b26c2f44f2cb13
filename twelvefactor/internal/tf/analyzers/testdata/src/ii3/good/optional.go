package good

import (
	"log/slog"
	"os/exec"
	"runtime"
	"strings"
)

// SELinuxMode asks an optional tool and carries on without it.
func SELinuxMode() ([]string, error) {
	out, err := exec.Command("getenforce").Output()
	if err != nil {
		return nil, nil
	}
	return strings.Fields(string(out)), nil
}

// Mounts logs a failure of an optional tool and goes on.
func Mounts() {
	if err := exec.Command("findmnt", "-J").Run(); err != nil {
		slog.Warn("findmnt failed", "err", err)
	}
}

// Open runs each platform's own opener; the Linux image needs none of
// the others.
func Open(url string) error {
	if runtime.GOOS == "darwin" {
		return exec.Command("open", url).Run()
	}
	switch runtime.GOOS {
	case "windows":
		return exec.Command("rundll32", "url.dll,FileProtocolHandler", url).Run()
	case "freebsd", "openbsd":
		return exec.Command("xdg-open", url).Run()
	}
	return nil
}

// Vendor runs an optional tool through a Cmd value and carries on
// without it.
func Vendor() string {
	cmd := exec.Command("dmidecode", "-s", "system-manufacturer")
	cmd.Stderr = nil
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	return string(out)
}
