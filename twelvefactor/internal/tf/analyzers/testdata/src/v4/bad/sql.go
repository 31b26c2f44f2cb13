package bad

import "database/sql"

// Open creates its table whenever the service opens the database.
func Open(db *sql.DB) error {
	_, err := db.Exec(`CREATE TABLE IF NOT EXISTS links (id TEXT PRIMARY KEY)`) // want `the service runs CREATE TABLE itself`
	return err
}

// OpenIndex creates a second table; the package's schema setup is one
// decision, reported once.
func OpenIndex(db *sql.DB) error {
	_, err := db.Exec(`CREATE TABLE IF NOT EXISTS clicks (id TEXT PRIMARY KEY)`)
	return err
}
