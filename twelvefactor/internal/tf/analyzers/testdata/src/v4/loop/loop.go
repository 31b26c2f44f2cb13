// Package loop runs its migration files whenever the service starts.
package loop

import (
	"database/sql"
	"os"
	"path/filepath"
)

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
