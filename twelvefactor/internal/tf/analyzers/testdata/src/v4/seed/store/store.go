// Package store holds demo data the service can seed.
package store

type DB struct{}

func (db *DB) Seed() error { return nil }

func SeedUsers(db *DB) error { return nil }
