// Package gormsqlite keeps its library in a SQLite file the process opens
// itself: no release step can reach it.
package gormsqlite

import (
	"gorm.io/gorm"

	_ "modernc.org/sqlite"
)

type Track struct{ Title string }

type Album struct{ Name string }

func Open(db *gorm.DB) error {
	if err := db.AutoMigrate(&Track{}); err != nil {
		return err
	}
	return db.AutoMigrate(&Album{})
}
