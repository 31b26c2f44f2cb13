// Package mixed stores in PostgreSQL or in a local SQLite file.
package mixed

import (
	"database/sql"

	_ "github.com/jackc/pgx/v5/pgxpool"
	_ "modernc.org/sqlite"
)

func createSQLiteSchema(db *sql.DB) error {
	_, err := db.Exec(`CREATE TABLE IF NOT EXISTS checks (id INTEGER PRIMARY KEY AUTOINCREMENT)`)
	return err
}

func createPostgresSchema(db *sql.DB) error {
	_, err := db.Exec(`CREATE TABLE IF NOT EXISTS checks (id BIGSERIAL PRIMARY KEY)`) // want `the service runs CREATE TABLE itself`
	return err
}
