package suppressed

import "os"

func Home() string {
	//twelvefactor:ignore III1 HOME locates the user's own files in this developer tool
	return os.Getenv("HOME") // want `os.Getenv reads the environment`
}
