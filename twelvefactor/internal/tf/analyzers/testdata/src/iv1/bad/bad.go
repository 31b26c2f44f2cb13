package bad

import "database/sql"

const dsn = "postgres://app:hunter2@db.example.com:5432/app"

func Open() (*sql.DB, error) {
	return sql.Open("postgres", dsn) // want `sql.Open is given the constant connection string "postgres://app:xxxxx@db.example.com:5432/app"`
}

// OpenReplica's password holds an @, which must not leak into the message.
func OpenReplica() (*sql.DB, error) {
	return sql.Open("postgres", "postgres://app:p@ss@db.example.com/app") // want `sql.Open is given the constant connection string "postgres://app:xxxxx@db.example.com/app"`
}
