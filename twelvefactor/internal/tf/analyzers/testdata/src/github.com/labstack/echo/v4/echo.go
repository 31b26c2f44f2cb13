// Package echo is a stub of the echo web framework for the analyzer tests.
package echo

import "context"

type Echo struct{}

func New() *Echo { return &Echo{} }

func (e *Echo) Start(addr string) error { return nil }

func (e *Echo) Shutdown(ctx context.Context) error { return nil }
