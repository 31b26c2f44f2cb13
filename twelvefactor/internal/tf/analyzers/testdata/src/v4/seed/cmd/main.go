// Command cmd seeds at every start, and once more behind a flag.
package main

import (
	"flag"
	"math/rand"

	"v4/seed/store"
)

func main() {
	demo := flag.Bool("demo", false, "load demo data")
	flag.Parse()
	db := &store.DB{}
	rand.Seed(1)
	db.Seed()           // want `Seed seeds the database at every start of the service`
	store.SeedUsers(db) // want `SeedUsers seeds the database at every start of the service`
	if *demo {
		store.SeedUsers(db)
	}
}
