package good

import (
	"fmt"
	"log"
	"log/slog"
	"os"

	zlog "github.com/rs/zerolog/log"
)

type Env struct{ AppEnv string }

// Logger is the program's own logger type.
type Logger interface {
	Infof(format string, args ...any)
}

// Branches whose every body only logs or prints change no behaviour.
func Announce(env Env, logger Logger) {
	if env.AppEnv == "development" {
		log.Println("The App is running in development env")
	}
	if env.AppEnv != "production" {
		slog.Info("not production", "env", env.AppEnv)
	} else {
		fmt.Fprintln(os.Stderr, "production")
	}
	if env.AppEnv == "staging" {
		zlog.Info().Str("env", env.AppEnv).Msg("staging")
	} else if env.AppEnv == "dev" {
		logger.Infof("dev")
	}
	switch env.AppEnv {
	case "production":
		fmt.Println("production")
	case "development":
		slog.Default().Debug("development")
	}
}
