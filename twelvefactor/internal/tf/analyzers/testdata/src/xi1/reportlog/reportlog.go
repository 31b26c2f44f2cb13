// Package reportlog keeps a rotated file of reports, and only when a
// setting turns it on: the early return guards what follows it.
package reportlog

import (
	"io"
	"log"
	"os"

	"gopkg.in/natefinch/lumberjack.v2"
)

type Settings struct {
	Enabled bool
	File    string
}

type nop struct{}

func (nop) Write(p []byte) (int, error) { return len(p), nil }
func (nop) Close() error                { return nil }

// Writer returns where reports go.
func Writer(s Settings) io.WriteCloser {
	if !s.Enabled {
		return nop{}
	}
	return &lumberjack.Logger{Filename: s.File, MaxSize: 10}
}

// Mirror copies the standard logger to a file when one is named.
func Mirror(s Settings) error {
	if s.File == "" {
		return nil
	}
	f, err := os.OpenFile(s.File, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	log.SetOutput(f)
	return nil
}
