package config

import "time"

// Config is the service's settings.
type Config struct {
	Port            int           `envconfig:"PORT" default:"8080"`
	AdminAddr       string        `envconfig:"ADMIN_ADDR" default:"127.0.0.1:9090"`
	DrainDelay      time.Duration `envconfig:"DRAIN_DELAY" default:"5s"`
	ShutdownTimeout time.Duration `envconfig:"SHUTDOWN_TIMEOUT" default:"20s"`
}
