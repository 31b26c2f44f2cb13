// Package gormmany migrates many models in several places at every start:
// one finding, with the count.
package gormmany

import "gorm.io/gorm"

type User struct{ Name string }

type Order struct{ ID int }

func OpenUsers(db *gorm.DB) error {
	return db.AutoMigrate(&User{}) // want `gorm's AutoMigrate changes the schema at every start of the service \(4 calls in this package\)`
}

func OpenOrders(db *gorm.DB) error {
	if err := db.AutoMigrate(&Order{}); err != nil {
		return err
	}
	return db.AutoMigrate(&User{}, &Order{})
}

// migrate is named for a migration but called at every start, not handed
// to a runner.
func migrate(db *gorm.DB) error { return db.AutoMigrate(&User{}) }

func Start(db *gorm.DB) error { return migrate(db) }
