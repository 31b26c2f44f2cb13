// Command server is the web process: the public HTTP API on $PORT and a
// private listener for metrics and profiles.
package main

import (
	"context"
	"fmt"
	"os"

	// Time zone data for time.LoadLocation, whatever the image holds. The
	// CA roots for TLS come from the system: the image's
	// /etc/ssl/certs/ca-certificates.crt, or the platform's stack.
	_ "time/tzdata"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.LookupEnv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}
