// Package zerolog is a stub of the zerolog logger for the analyzer tests.
package zerolog

type Event struct{}

func (e *Event) Str(key, val string) *Event { return e }

func (e *Event) Msg(msg string) {}

type Logger struct{}

func (l Logger) Info() *Event { return &Event{} }

func (l Logger) Fatal() *Event { return &Event{} }
