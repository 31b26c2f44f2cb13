// Package sqlite keeps a local cache in a SQLite file the process owns.
package sqlite

import (
	"database/sql"

	_ "modernc.org/sqlite"
)

// OpenCache sets up the schema of the cache file.
func OpenCache(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return nil, err
	}
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS entries (k TEXT PRIMARY KEY, v BLOB)`); err != nil {
		return nil, err
	}
	return db, nil
}
