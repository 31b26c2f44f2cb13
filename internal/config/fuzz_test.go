package config

import (
	"errors"
	"strings"
	"testing"
)

// FuzzLoad sets one variable to an arbitrary value: Load either accepts it
// or returns a *config.Error naming the variable, and never prints the
// value. Seeds are in testdata/fuzz/FuzzLoad.
func FuzzLoad(f *testing.F) {
	vars := Vars(&Config{})
	f.Fuzz(func(t *testing.T, index uint, value string) {
		name := vars[index%uint(len(vars))].Name
		// The marker makes any echo of the value recognisable.
		value = "ZQXmarker" + value
		_, err := Load(func(k string) (string, bool) {
			if k == name {
				return value, true
			}
			return "", false
		})
		if err == nil {
			return
		}
		var cerr *Error
		if !errors.As(err, &cerr) {
			t.Fatalf("Load(%s=%q) error = %v, want *config.Error", name, value, err)
		}
		if strings.Contains(err.Error(), "ZQXmarker") {
			t.Fatalf("Load(%s=%q) error = %q, prints the value", name, value, err)
		}
		if !strings.Contains(err.Error(), name) {
			t.Fatalf("Load(%s=%q) error = %q, does not name %s", name, value, err, name)
		}
	})
}
