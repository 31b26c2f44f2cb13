// Command gormigrateflag applies its versioned migrations when asked.
package main

import (
	"flag"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"

	_ "github.com/jackc/pgx/v5/pgxpool"
)

type User struct{ Name string }

func main() {
	migrate := flag.Bool("migrate", false, "apply the migrations and exit")
	flag.Parse()
	var db *gorm.DB
	if *migrate {
		m := gormigrate.New(db, []*gormigrate.Migration{{
			ID:      "202001010000",
			Migrate: func(tx *gorm.DB) error { return tx.AutoMigrate(&User{}) },
		}})
		_ = m.Migrate()
	}
}
