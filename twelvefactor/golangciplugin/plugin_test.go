package golangciplugin

import (
	"strings"
	"testing"

	"github.com/golangci/plugin-module-register/register"

	"github.com/dozen-go/dozen/twelvefactor/analyzers"
)

// TestNew checks the plugin's settings: every rule by default, the rules
// named, and an error naming a rule that is not a code rule.
func TestNew(t *testing.T) {
	all, err := New(nil)
	if err != nil {
		t.Fatalf("New(nil) = %v", err)
	}
	as, err := all.BuildAnalyzers()
	if err != nil || len(as) != len(analyzers.All()) {
		t.Errorf("New(nil).BuildAnalyzers() = %d analyzers, %v; want all %d", len(as), err, len(analyzers.All()))
	}
	if mode := all.GetLoadMode(); mode != register.LoadModeTypesInfo {
		t.Errorf("GetLoadMode() = %q, want %q", mode, register.LoadModeTypesInfo)
	}
	some, err := New(map[string]any{"rules": []any{"IX1", "shutdown"}})
	if err != nil {
		t.Fatalf("New(rules: IX1, shutdown) = %v", err)
	}
	as, _ = some.BuildAnalyzers()
	if len(as) != 2 || analyzers.Rule(as[0]) != "IX1" || as[1].Name != "shutdown" {
		t.Errorf("New(rules: IX1, shutdown) analyzers = %v, want signals and shutdown", as)
	}
	if _, err := New(map[string]any{"rules": []any{"III3"}}); err == nil || !strings.Contains(err.Error(), "III3") {
		t.Errorf("New(rules: III3) = %v, want an error naming III3", err)
	}
}

// TestRegistered checks that importing the package registers the plugin
// under the name .golangci.yml uses.
func TestRegistered(t *testing.T) {
	if _, err := register.GetPlugin("twelvefactor"); err != nil {
		t.Errorf("GetPlugin(twelvefactor) = %v", err)
	}
}
