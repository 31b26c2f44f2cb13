package startup

import (
	"context"
	"os"
	"syscall"
	"testing"
)

func TestInterruptible(t *testing.T) {
	t.Run("a signal ends the context", func(t *testing.T) {
		signals := make(chan os.Signal, 1)
		ctx, interrupted := Interruptible(context.Background(), signals)
		signals <- syscall.SIGTERM
		<-ctx.Done()
		if sig := interrupted(); sig != syscall.SIGTERM {
			t.Errorf("interrupted() = %v, want SIGTERM", sig)
		}
	})
	t.Run("without a signal", func(t *testing.T) {
		signals := make(chan os.Signal, 1)
		ctx, interrupted := Interruptible(context.Background(), signals)
		if sig := interrupted(); sig != nil {
			t.Errorf("interrupted() = %v, want nil", sig)
		}
		if ctx.Err() == nil {
			t.Error("the context is still live after interrupted(), want it cancelled")
		}
		// A signal sent afterwards stays for the caller to read.
		signals <- syscall.SIGINT
		if sig := <-signals; sig != syscall.SIGINT {
			t.Errorf("read %v after interrupted(), want SIGINT", sig)
		}
	})
}
