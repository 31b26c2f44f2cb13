package config

// Config is the service config.
type Config struct {
	DatabaseURL string `envconfig:"DATABASE_URL" required:"true"`
	Port        int    `envconfig:"PORT" default:"8080"`
	LogFormat   string `split_words:"true" default:"json"`
}
