package config

// Config is the service config.
type Config struct {
	DatabaseURL string `envconfig:"DATABASE_URL"`
	RedisURL    string `envconfig:"REDIS_URL"`
}
