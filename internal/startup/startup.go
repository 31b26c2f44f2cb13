// Package startup lets a long-running process stop on a signal at any
// moment, start-up included: a wait for a backing service that is still
// coming up ends when a stop signal arrives, instead of outlasting the
// platform's grace period.
package startup

import (
	"context"
	"os"
)

// Interruptible returns a context that ends when a signal arrives on
// signals, and a function that stops watching and returns the signal that
// arrived, if one did. Call the function before reading signals again.
func Interruptible(ctx context.Context, signals <-chan os.Signal) (context.Context, func() os.Signal) {
	ctx, cancel := context.WithCancel(ctx)
	stop := make(chan struct{})
	got := make(chan os.Signal, 1)
	go func() {
		select {
		case sig := <-signals:
			cancel()
			got <- sig
		case <-stop:
			got <- nil
		}
	}()
	return ctx, func() os.Signal {
		close(stop)
		sig := <-got
		cancel()
		return sig
	}
}
