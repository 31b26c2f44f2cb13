// Command worker is the worker process: it runs the background jobs that
// the web process enqueues, and the periodic ones, from the queue in the
// service's database.
package main

import (
	"context"
	"fmt"
	"os"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.LookupEnv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}
