package good

import "database/sql"

func Open(url string) (*sql.DB, error) { return sql.Open("postgres", url) }

func Memory() (*sql.DB, error) { return sql.Open("sqlite", ":memory:") }
