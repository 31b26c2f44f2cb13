// Command admin runs the service's one-off processes (factor XII) with the
// same configuration and code as the web process: migrations, the
// effective configuration, a check of the backing services, the version.
// Run "admin help" for the commands.
package main

import (
	"context"
	"fmt"
	"os"

	// The binary carries what it would otherwise read from the image, so
	// it runs on scratch or an empty root filesystem: time zone data for
	// time.LoadLocation, and a CA bundle used when the system has none.
	_ "time/tzdata"

	_ "golang.org/x/crypto/x509roots/fallback"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "admin:", err)
		os.Exit(exitCode(err))
	}
}
