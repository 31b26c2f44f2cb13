// Package integration decides what an integration test does when the
// server it needs is not configured: skip, saying which variable to set,
// or, when REQUIRE_INTEGRATION_TESTS=1 as in CI, fail.
package integration

import (
	"fmt"
	"os"
	"testing"
)

// Require names the variable that, set to 1, turns every skip for a
// missing test server into a failure, so CI cannot pass without them.
const Require = "REQUIRE_INTEGRATION_TESTS"

// Skip skips t, or fails it when REQUIRE_INTEGRATION_TESTS=1, saying which
// variable to set and giving an example value.
func Skip(t testing.TB, variable, example string) {
	t.Helper()
	msg := fmt.Sprintf("integration test: set %s (e.g. %s) to run it", variable, example)
	if os.Getenv(Require) == "1" {
		t.Fatalf("%s; %s=1 forbids skipping", msg, Require)
	}
	t.Skip(msg)
}
