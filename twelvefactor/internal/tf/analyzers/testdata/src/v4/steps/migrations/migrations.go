// Package migrations holds one function per version; an upgrade command
// runs them.
package migrations

import "database/sql"

func V0_4_0(db *sql.DB) error {
	_, err := db.Exec(`ALTER TABLE lists ADD COLUMN tags TEXT`)
	return err
}

func V0_5_0(db *sql.DB) error {
	_, err := db.Exec(`CREATE TABLE templates (id INT)`)
	return err
}
