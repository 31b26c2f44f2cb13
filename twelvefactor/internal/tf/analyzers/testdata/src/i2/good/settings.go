package good

import (
	"fmt"
	"os"
)

// LogFormat reads a log setting that takes deploy names as values.
func LogFormat() string {
	if os.Getenv("LOG_MODE") == "development" { // want `os.Getenv reads the environment`
		return "text"
	}
	return "json"
}

// Wizard asks which environment to write into a config file.
func Wizard() string {
	var env string
	fmt.Scanln(&env)
	if env == "production" {
		return "config.yaml"
	}
	return "config.local.yaml"
}
