// Command admin runs migrations and other one-off tasks.
package main

import (
	"fmt"
	"os"

	"example.com/acme/orders/migrations"
)

func main() {
	entries, err := migrations.FS.ReadDir("postgres")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(len(entries), "migrations")
}
