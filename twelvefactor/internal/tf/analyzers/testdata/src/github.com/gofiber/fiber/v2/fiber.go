// Package fiber is a stub of the fiber web framework for the analyzer tests.
package fiber

type App struct{}

func New() *App { return &App{} }

func (a *App) Listen(addr string) error { return nil }

func (a *App) Shutdown() error { return nil }
