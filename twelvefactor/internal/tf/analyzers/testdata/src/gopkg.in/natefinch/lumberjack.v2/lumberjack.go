// Package lumberjack is a stand-in for the log rotation library.
package lumberjack

// Logger writes to a file that it rotates.
type Logger struct {
	Filename string
	MaxSize  int
}

func (l *Logger) Write(p []byte) (int, error) { return len(p), nil }

func (l *Logger) Close() error { return nil }
