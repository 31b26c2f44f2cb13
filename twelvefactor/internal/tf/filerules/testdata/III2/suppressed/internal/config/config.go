package config

// Config is the service config.
type Config struct {
	Port int `envconfig:"PORT" default:"8080"`
}
