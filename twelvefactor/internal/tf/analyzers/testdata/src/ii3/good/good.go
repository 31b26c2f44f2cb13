package good

import (
	"os"
	"os/exec"
)

// Reexec runs this program again: no undeclared tool.
func Reexec() error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	return exec.Command(self, "child").Run()
}

// Built runs a binary this repository builds, by path.
func Built() error { return exec.Command("./bin/tool").Run() }

// OpenBrowser probes for the tool first: it is optional.
func OpenBrowser(url string) {
	if _, err := exec.Command("which", "xdg-open").Output(); err != nil {
		return
	}
	exec.Command("xdg-open", url).Run()
}

// Convert probes with LookPath.
func Convert(in string) error {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		return err
	}
	return exec.Command("ffmpeg", "-i", in).Run()
}

// Generate runs the go command, as a developer tool does.
func Generate() error { return exec.Command("go", "generate", "./...").Run() }
