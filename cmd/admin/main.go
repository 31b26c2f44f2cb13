// Command admin runs the service's one-off processes (factor XII) with the
// same configuration and code as the web process: migrations, the
// effective configuration, a check of the backing services, the version.
// Run "admin help" for the commands.
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
	if err := run(context.Background(), os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "admin:", err)
		os.Exit(exitCode(err))
	}
}
