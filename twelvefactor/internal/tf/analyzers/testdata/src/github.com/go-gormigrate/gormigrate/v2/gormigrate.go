// Package gormigrate is a stub of gormigrate for the analyzer tests.
package gormigrate

import "gorm.io/gorm"

type Migration struct {
	ID       string
	Migrate  func(*gorm.DB) error
	Rollback func(*gorm.DB) error
}

type Gormigrate struct{}

func New(db *gorm.DB, migrations []*Migration) *Gormigrate { return &Gormigrate{} }

func (g *Gormigrate) Migrate() error { return nil }
