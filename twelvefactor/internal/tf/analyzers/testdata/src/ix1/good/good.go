package good

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func Context() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// All asks for every signal.
func All(c chan os.Signal) { signal.Notify(c) }
