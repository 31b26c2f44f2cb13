package good

import (
	"log"
	"os"
)

// Optional writes the logs to a file only when a flag names one.
func Optional(name string) error {
	if name != "" {
		f, err := os.OpenFile(name, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		log.SetOutput(f)
	}
	return nil
}
