// Command cmd installs its schema only when asked.
package main

import (
	"database/sql"
	"flag"
)

func install(db *sql.DB) error {
	_, err := db.Exec(`CREATE TABLE settings (k TEXT, v TEXT)`)
	return err
}

func main() {
	doInstall := flag.Bool("install", false, "install the schema")
	flag.Parse()
	var db *sql.DB
	if *doInstall {
		_ = install(db)
	}
}
