package process

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// stopSignals receives the stop signals, SIGTERM and SIGINT, from
// catchSignals until release. Caught signals never fall through to the
// default action of killing the process, so that repeated ones (Heroku
// sends several) cannot cut a drain short.
type stopSignals chan os.Signal

func catchSignals() stopSignals {
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGTERM, os.Interrupt)
	return signals
}

// release stops catching signals and closes the channel, which ends
// ignoreRepeats.
func (s stopSignals) release() {
	signal.Stop(s)
	close(s) // safe once Stop returns: nothing sends any more
}

// interruptible returns a context that ends when a stop signal arrives,
// and a function that stops watching and returns the signal that arrived,
// if one did. Call the function before Wait.
func (p *Process) interruptible(ctx context.Context) (context.Context, func() os.Signal) {
	ctx, cancel := context.WithCancel(ctx)
	stop := make(chan struct{})
	got := make(chan os.Signal, 1)
	go func() {
		select {
		case sig := <-p.signals:
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

// Wait blocks until a stop signal arrives, ctx ends or a server started by
// Serve fails. It returns the signal (nil when ctx ended) or the failure.
// From then on the process is stopping: further signals are logged and
// ignored.
//
// The stop's budget starts here: DRAIN_DELAY, except after SIGINT (see
// cmd/server), plus SHUTDOWN_TIMEOUT. The deployment gives the process
// at least that long before it kills it.
func (p *Process) Wait(ctx context.Context) (sig os.Signal, err error) {
	select {
	case sig = <-p.signals:
		p.Log.Info("stop signal received; stopping", "signal", sig.String())
	case <-ctx.Done():
		p.Log.Info("context done; stopping")
	case err = <-p.failed:
	}
	p.stopBy = time.Now().Add(p.Config.Shutdown.Timeout)
	if sig != nil && sig != os.Interrupt {
		p.stopBy = p.stopBy.Add(p.Config.Shutdown.DrainDelay)
	}
	go p.ignoreRepeats()
	return sig, err
}

// ignoreRepeats logs and drops stop signals until Close.
func (p *Process) ignoreRepeats() {
	for sig := range p.signals {
		p.Log.Info("already stopping; signal ignored", "signal", sig.String())
	}
}
