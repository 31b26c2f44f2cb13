// Package gormsteps lists versioned migration steps that a runner applies
// once per version.
package gormsteps

import "gorm.io/gorm"

type Track struct{ Title string }

type Playlist struct{ Name string }

type step struct {
	id  string
	run func(*gorm.DB) error
}

func construct(id string, run func(*gorm.DB) error) step { return step{id, run} }

var steps = []step{
	construct("202002192100", migrateInitSchema),
	construct("202104011200", migrateAddPlaylists),
}

func migrateInitSchema(tx *gorm.DB) error { return tx.AutoMigrate(&Track{}) }

func migrateAddPlaylists(tx *gorm.DB) error { return tx.AutoMigrate(&Playlist{}) }

// Steps returns the steps in order.
func Steps() []step { return steps }
