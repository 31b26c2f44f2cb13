package analyzers_test

import (
	"testing"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/dozen-go/dozen/internal/twelvefactor/analyzers"
)

// TestAnalyzers runs each analyzer over its fixtures in testdata/src/<rule>:
// bad (reported), good (not reported) and suppressed (reported here; the
// checklist applies the suppression), plus extra cases where present.
func TestAnalyzers(t *testing.T) {
	testdata := analysistest.TestData()
	tests := []struct {
		a       *analysis.Analyzer
		pattern string
	}{
		{analyzers.DeployBranch, "i2/..."},
		{analyzers.SystemTool, "ii3/..."},
		{analyzers.EnvRead(nil), "iii1/..."},
		{analyzers.EnvRead([]string{"settings"}), "iii1opt/..."},
		{analyzers.LiteralDSN, "iv1/..."},
		{analyzers.InsecureTLS, "iv3/..."},
		{analyzers.LocalWrite, "vi1/..."},
		{analyzers.ListenAddr, "vii1/..."},
		{analyzers.Signals, "ix1/..."},
		{analyzers.Shutdown, "ix2/..."},
		{analyzers.Exit, "ix5/..."},
		{analyzers.LogFiles, "xi1/..."},
		{analyzers.StrayPrint, "xi2/..."},
		{analyzers.StrayPrint, "xi2cli/..."},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			t.Parallel()
			analysistest.Run(t, testdata, tt.a, tt.pattern)
		})
	}
}

// TestAllHaveRules checks that every analyzer names a registered rule, so
// that its findings land in the checklist.
func TestAllHaveRules(t *testing.T) {
	seen := make(map[string]bool)
	for _, a := range analyzers.All(analyzers.Options{}) {
		id := analyzers.RuleOf(a)
		if id == "" || seen[id] {
			t.Errorf("RuleOf(%s) = %q, want a rule ID of its own", a.Name, id)
		}
		seen[id] = true
	}
}
