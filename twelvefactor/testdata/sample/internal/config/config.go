// Package config reads the environment.
package config

import "os"

// Config is the sample's config.
type Config struct {
	Port        string `envconfig:"PORT" default:"8080"`
	DatabaseURL string `envconfig:"DATABASE_URL" required:"true"`
}

// Load reads the config.
func Load() Config {
	return Config{Port: os.Getenv("PORT"), DatabaseURL: os.Getenv("DATABASE_URL")}
}
