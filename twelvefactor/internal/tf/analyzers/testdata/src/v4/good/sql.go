package good

import "database/sql"

// Setup creates the table only when a setting asks for it.
func Setup(db *sql.DB, create bool) error {
	if create {
		_, err := db.Exec(`CREATE TABLE links (id TEXT PRIMARY KEY)`)
		return err
	}
	_, err := db.Exec(`INSERT INTO links (id) VALUES ('a')`)
	return err
}
