package bad

import (
	"context"
	"os"
	"os/signal"
)

func Wait() {
	c := make(chan os.Signal, 1)
	signal.Notify(c, os.Interrupt) // want `signal.Notify asks for SIGINT but not SIGTERM`
	<-c
}

func Context() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, os.Kill) // want `signal.NotifyContext asks for SIGINT but not SIGTERM` `Kill cannot be caught`
}
