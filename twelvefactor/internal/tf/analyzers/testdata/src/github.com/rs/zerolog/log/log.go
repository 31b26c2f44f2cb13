// Package log is a stub of zerolog's global logger for the analyzer tests.
package log

import "github.com/rs/zerolog"

var Logger zerolog.Logger

func Info() *zerolog.Event { return Logger.Info() }

func Fatal() *zerolog.Event { return Logger.Fatal() }
