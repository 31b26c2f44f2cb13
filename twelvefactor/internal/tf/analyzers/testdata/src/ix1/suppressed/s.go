package suppressed

import (
	"os"
	"os/signal"
)

func Interactive(c chan os.Signal) {
	//twelvefactor:ignore IX1 this is the interactive REPL; only Ctrl-C matters
	signal.Notify(c, os.Interrupt) // want `asks for SIGINT but not SIGTERM`
}
