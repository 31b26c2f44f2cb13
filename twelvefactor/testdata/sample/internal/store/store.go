// Package store is the sample's storage.
package store

import (
	"database/sql"
	"fmt"
	"log"
	"os"
)

// Warm fills the cache.
func Warm() {
	fmt.Println("warming")
	//twelvefactor:ignore VI1 the cache file is scratch space on an emptyDir volume
	os.WriteFile("cache.db", nil, 0o600)
	//twelvefactor:ignore IV1
	if _, err := sql.Open("postgres", "postgres://localhost/sample"); err != nil {
		log.Fatal(err)
	}
}
