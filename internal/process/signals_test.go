package process

import (
	"bufio"
	"context"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestStopSignalWhileWaitingForDatabase sends SIGINT while the process
// waits for a database that does not answer: it stops waiting at once.
func TestStopSignalWhileWaitingForDatabase(t *testing.T) {
	env := map[string]string{
		"DATABASE_URL":              "postgres://app@127.0.0.1:1/app?sslmode=disable", // nothing listens on port 1
		"DATABASE_CONNECT_ATTEMPTS": "100",
		"ADMIN_ADDR":                "127.0.0.1:0",
	}
	time.AfterFunc(300*time.Millisecond, func() { _ = syscall.Kill(syscall.Getpid(), syscall.SIGINT) })
	began := time.Now()
	p, err := Start(t.Context(), "test", nil, func(k string) (string, bool) { v, ok := env[k]; return v, ok }, io.Discard)
	if err == nil {
		p.Close()
		t.Fatal("Start() = nil error, want it stopped by the signal")
	}
	if !strings.Contains(err.Error(), "interrupt during start-up") {
		t.Errorf("Start() = %v, want it stopped by interrupt during start-up", err)
	}
	if took := time.Since(began); took > 3*time.Second {
		t.Errorf("Start returned %v after it began, want soon after the signal", took)
	}
}

// TestWaitIgnoresRepeatedSignals: the first SIGTERM ends Wait; later ones
// are logged and ignored instead of killing the stopping process.
func TestWaitIgnoresRepeatedSignals(t *testing.T) {
	pr, pw := io.Pipe()
	lines := make(chan string, 100)
	go func() {
		for sc := bufio.NewScanner(pr); sc.Scan(); {
			lines <- sc.Text()
		}
	}()
	defer pw.Close()
	p := start(t, nil, pw)
	defer p.Close()

	time.AfterFunc(100*time.Millisecond, func() { _ = syscall.Kill(syscall.Getpid(), syscall.SIGTERM) })
	sig, err := p.Wait(t.Context())
	if sig != syscall.SIGTERM || err != nil {
		t.Fatalf("Wait() = %v, %v, want SIGTERM, nil", sig, err)
	}
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for timeout := time.After(5 * time.Second); ; {
		select {
		case l := <-lines:
			if !strings.Contains(l, "already stopping; signal ignored") {
				continue
			}
		case <-timeout:
			t.Fatal("no log line for the repeated signal within 5s")
		}
		break
	}
}

func TestInterruptible(t *testing.T) {
	t.Run("a signal ends the context", func(t *testing.T) {
		p := &Process{signals: make(stopSignals, 1)}
		ctx, interrupted := p.interruptible(context.Background())
		p.signals <- syscall.SIGTERM
		<-ctx.Done()
		if sig := interrupted(); sig != syscall.SIGTERM {
			t.Errorf("interrupted() = %v, want SIGTERM", sig)
		}
	})
	t.Run("without a signal", func(t *testing.T) {
		p := &Process{signals: make(stopSignals, 1)}
		ctx, interrupted := p.interruptible(context.Background())
		if sig := interrupted(); sig != nil {
			t.Errorf("interrupted() = %v, want nil", sig)
		}
		if ctx.Err() == nil {
			t.Error("the context is still live after interrupted(), want it cancelled")
		}
		// A signal sent afterwards stays for Wait to read.
		p.signals <- syscall.SIGINT
		if sig := <-p.signals; sig != syscall.SIGINT {
			t.Errorf("read %v after interrupted(), want SIGINT", sig)
		}
	})
}
