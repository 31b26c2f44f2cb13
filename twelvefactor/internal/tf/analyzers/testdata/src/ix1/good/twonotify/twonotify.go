// Package twonotify asks for SIGINT and SIGTERM in two statements.
package twonotify

import (
	"os"
	"os/signal"
	"syscall"
)

func Wait() {
	c := make(chan os.Signal, 1)
	signal.Notify(c, os.Interrupt)
	signal.Notify(c, syscall.SIGTERM)
	<-c
}
