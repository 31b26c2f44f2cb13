package suppressed

import "os/exec"

func Version() ([]byte, error) {
	//twelvefactor:ignore II3 the image installs git on purpose; see Dockerfile
	return exec.Command("git", "describe").Output() // want `exec.Command runs "git"`
}
