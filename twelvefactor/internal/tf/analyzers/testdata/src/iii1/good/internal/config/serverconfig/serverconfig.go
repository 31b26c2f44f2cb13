// Package serverconfig is a config package below internal/config.
package serverconfig

import "os"

func Addr() string { return os.Getenv("SERVER_ADDR") }
