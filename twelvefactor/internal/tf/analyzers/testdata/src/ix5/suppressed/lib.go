package suppressed

import "os"

func Child() {
	//twelvefactor:ignore IX5 the re-executed child process has no cleanup to run
	os.Exit(3) // want `os.Exit exits the process`
}
