// Package gin is a stub of the gin web framework for the analyzer tests.
package gin

type Engine struct{}

func Default() *Engine { return &Engine{} }

func (e *Engine) Run(addr ...string) error { return nil }

const (
	DebugMode   = "debug"
	ReleaseMode = "release"
)

func SetMode(value string) {}
