package bad

import (
	"os"
	"strings"
)

type Config struct{ Environment string }

func Verbose(env string) bool {
	return env == "production" // want `the code branches on env == "production"`
}

func Level(cfg Config) int {
	switch cfg.Environment {
	case "staging": // want `the code branches on cfg.Environment == "staging"`
		return 1
	}
	return 0
}

func Debug() bool {
	return strings.ToLower(os.Getenv("APP_STAGE")) != "prod" // want `os.Getenv reads the environment` `the code branches on strings.ToLower\(os.Getenv\("APP_STAGE"\)\) != "prod"`
}
