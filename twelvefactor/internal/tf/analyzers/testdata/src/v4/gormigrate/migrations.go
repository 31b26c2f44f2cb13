// Package gormigrate holds migration steps as values of a migration
// library: the library runs each once.
package gormigrate

import (
	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

type User struct{ Name string }

var Migrations = []*gormigrate.Migration{
	{
		ID:      "202001010000",
		Migrate: func(tx *gorm.DB) error { return tx.AutoMigrate(&User{}) },
	},
}
