// Package pgtest gives tests a fresh database from TEST_DATABASE_URL.
package pgtest

import (
	"os"
	"testing"
)

// URL returns the test database URL, or skips the test.
func URL(t *testing.T) string {
	u := os.Getenv("TEST_DATABASE_URL")
	if u == "" {
		t.Skip("set TEST_DATABASE_URL to run this test")
	}
	return u
}
