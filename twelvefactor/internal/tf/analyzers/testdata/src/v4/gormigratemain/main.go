// Command gormigratemain applies its versioned migrations at every start.
package main

import (
	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"

	_ "github.com/jackc/pgx/v5/pgxpool"
)

type User struct{ Name string }

func main() {
	var db *gorm.DB
	m := gormigrate.New(db, []*gormigrate.Migration{{
		ID:      "202001010000",
		Migrate: func(tx *gorm.DB) error { return tx.AutoMigrate(&User{}) },
	}})
	_ = m.Migrate() // want `main runs the versioned migrations at every start of the service`
}
