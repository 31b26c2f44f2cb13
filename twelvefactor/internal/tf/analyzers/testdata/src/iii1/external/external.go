package external

import "github.com/kelseyhightower/envconfig"

func Load(v any) error {
	return envconfig.Process("", v) // want `envconfig.Process reads the environment`
}
