package bad

import (
	"database/sql"
	"os"
	"path/filepath"
)

// Open creates its table whenever the service opens the database.
func Open(db *sql.DB) error {
	_, err := db.Exec(`CREATE TABLE IF NOT EXISTS links (id TEXT PRIMARY KEY)`) // want `the service runs CREATE TABLE itself`
	return err
}

// Migrate runs every migration file at every start.
func Migrate(db *sql.DB, dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if filepath.Ext(e.Name()) != ".sql" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		if _, err := db.Exec(string(b)); err != nil { // want `Migrate reads migration files and executes them in a loop`
			return err
		}
	}
	return nil
}
