// Package sqlite stands for the modernc.org SQLite driver.
package sqlite
