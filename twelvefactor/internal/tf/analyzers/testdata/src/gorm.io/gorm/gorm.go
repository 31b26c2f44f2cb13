// Package gorm is a stub of gorm for the analyzer tests.
package gorm

type DB struct{}

func (db *DB) AutoMigrate(dst ...any) error { return nil }
