// Command twelvefactor checks a Go service repository against the twelve
// factors and prints the checklist: each factor, each rule, pass, warn, fail
// or not applicable, with file:line evidence and a one-line fix.
//
// Usage:
//
//	twelvefactor [flags] [dir]
//
// It exits 0 when no finding reaches the -fail-on severity, 1 when one
// does, and 2 on usage errors or when the repository cannot be read.
//
// Install it on its own with
//
//	go install github.com/dozen-go/dozen/twelvefactor@latest
//
// and see README.md beside this file for the rules and the config file.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errThreshold):
		os.Exit(1)
	case errors.Is(err, errFlags):
		os.Exit(2) // the flag package has printed the problem and the usage
	default:
		fmt.Fprintln(os.Stderr, "twelvefactor:", err)
		os.Exit(2)
	}
}
