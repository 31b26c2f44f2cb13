// Package logfile sends the standard logger to a file.
package logfile

import (
	"log"
	"log/slog"
	"os"
)

func Setup(name string) error {
	f, err := os.OpenFile(name, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	log.SetOutput(f)                      // want `log.SetOutput sends the logs to the file f`
	slog.New(slog.NewJSONHandler(f, nil)) // want `slog.NewJSONHandler sends the logs to the file f`
	log.SetOutput(os.Stderr)              // stderr is the event stream
	slog.New(slog.NewTextHandler(os.Stdout, nil))
	return nil
}
