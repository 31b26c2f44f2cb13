package suppressed

import "database/sql"

func Local() (*sql.DB, error) {
	//twelvefactor:ignore IV1 the demo command talks to the compose database only
	return sql.Open("postgres", "postgres://localhost/demo") // want `sql.Open is given the constant connection string`
}
