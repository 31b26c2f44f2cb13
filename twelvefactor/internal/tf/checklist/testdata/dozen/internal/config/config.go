// Package config reads the environment once.
package config

import "os"

// Config is the service's config.
type Config struct {
	Port        int    `envconfig:"PORT" default:"8080"`
	AdminAddr   string `envconfig:"ADMIN_ADDR" default:"127.0.0.1:9090"`
	DatabaseURL string `envconfig:"DATABASE_URL"`
	RedisURL    string `envconfig:"REDIS_URL"`
	LogLevel    string `envconfig:"LOG_LEVEL" default:"info"`
	DrainDelay  string `envconfig:"DRAIN_DELAY" default:"5s"`
}

// Load reads the config.
func Load() Config {
	return Config{AdminAddr: os.Getenv("ADMIN_ADDR"), DatabaseURL: os.Getenv("DATABASE_URL")}
}
