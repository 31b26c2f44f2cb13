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
