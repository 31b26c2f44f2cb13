// Command worker is the worker process: it runs the background jobs that
// the web process enqueues, and the periodic ones, from the queue in the
// service's database.
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
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}
