// Command gormserver migrates its PostgreSQL schema at every start.
package main

import (
	"gorm.io/gorm"

	_ "github.com/jackc/pgx/v5/pgxpool"
	_ "modernc.org/sqlite"
)

type User struct{ Name string }

func main() {
	var db *gorm.DB
	_ = db.AutoMigrate(&User{}) // want `gorm's AutoMigrate changes the schema at every start`
}
