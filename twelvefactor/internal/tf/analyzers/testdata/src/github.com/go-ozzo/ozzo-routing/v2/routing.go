// Package routing is a stub of ozzo-routing for the analyzer tests.
package routing

import (
	"net/http"
	"time"
)

// GracefulShutdown stops the server when the process is signalled.
func GracefulShutdown(hs *http.Server, timeout time.Duration, logf func(string, ...any)) {}
