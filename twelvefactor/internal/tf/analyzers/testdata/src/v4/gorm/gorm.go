// Package gorm changes the schema whenever the service starts.
package gorm

import "gorm.io/gorm"

type Link struct{ Code string }

func Open(db *gorm.DB) error {
	return db.AutoMigrate(&Link{}) // want `gorm's AutoMigrate changes the schema at every start`
}
