package main

import (
	"os"
	"strings"
	"testing"
)

// TestBuildFlagsShip checks that loadbench builds the server with the flags
// of the image and of make build, so that a change to how the binary ships
// changes what is measured too.
func TestBuildFlagsShip(t *testing.T) {
	want := strings.Join(buildFlags, " ")
	for _, name := range []string{"../../Dockerfile", "../../Makefile"} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		var found bool
		for line := range strings.Lines(string(b)) {
			if _, args, ok := strings.Cut(line, "go build "); ok {
				found = true
				if !strings.Contains(strings.ReplaceAll(args, `"`, ""), want) {
					t.Errorf("%s builds with %q; loadbench with %q", name, strings.TrimSpace(args), want)
				}
			}
		}
		if !found {
			t.Errorf("%s has no go build line", name)
		}
	}
}
