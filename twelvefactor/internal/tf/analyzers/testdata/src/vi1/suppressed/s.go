package suppressed

import "os"

func Pid() error {
	//twelvefactor:ignore VI1 the health file is read by the container's own exec probe
	return os.WriteFile("healthy", nil, 0o600) // want `os.WriteFile writes to the fixed local path`
}
