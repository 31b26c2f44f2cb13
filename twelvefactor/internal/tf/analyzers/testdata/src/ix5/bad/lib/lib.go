package lib

import (
	"log"
	"os"
)

func Must(err error) {
	if err != nil {
		os.Exit(1) // want `os.Exit exits the process in Must`
	}
}

var logger = log.New(os.Stderr, "", 0)

func MustLog(err error) {
	if err != nil {
		logger.Fatalf("boom: %v", err) // want `log.Fatalf exits the process`
	}
}
