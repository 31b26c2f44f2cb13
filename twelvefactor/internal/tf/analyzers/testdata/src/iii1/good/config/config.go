// Package config is allowed to read the environment.
package config

import "os"

func Port() string { return os.Getenv("PORT") }
