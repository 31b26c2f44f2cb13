// Command worker is the worker process: it runs the background jobs that
// the web process enqueues, and the periodic ones, from the queue in the
// service's database.
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
	if err := run(context.Background(), os.Args[1:], os.LookupEnv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}
