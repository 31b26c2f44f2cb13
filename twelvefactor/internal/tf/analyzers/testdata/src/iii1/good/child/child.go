// Package child runs a program with the service's own environment.
package child

import (
	"os"
	"os/exec"
)

func Run(path string) error {
	cmd := exec.Command(path)
	cmd.Env = append(os.Environ(), "MODE=child")
	return cmd.Run()
}
