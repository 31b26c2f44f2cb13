package config

// Config is the service config.
type Config struct {
	Host string `envconfig:"SMTP_HOST"` //twelvefactor:ignore IV2 the mail relay library takes separate settings
	User string `envconfig:"SMTP_USER"`
}
