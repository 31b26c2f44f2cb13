package good

import "database/sql"

func Open(url string) (*sql.DB, error) { return sql.Open("postgres", url) }

func Memory() (*sql.DB, error) { return sql.Open("sqlite", ":memory:") }

// Embedded opens the embedded database used when no DATABASE_URL is set.
func Embedded() (*sql.DB, error) {
	return sql.Open("sqlite", "file:data/app.db?_pragma=busy_timeout(5000)")
}
