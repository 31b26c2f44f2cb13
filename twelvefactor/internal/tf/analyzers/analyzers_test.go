package analyzers_test

import (
	"testing"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/dozen-go/dozen/twelvefactor/internal/tf/analyzers"
)

// combine returns one analyzer that runs every given analyzer on each
// package. analysistest loads the fixtures and their dependencies from
// source for every Run, which is slow (minutes under -race); one Run over
// every fixture keeps the load to one, while each analyzer's diagnostics
// are still checked against the // want comments of its fixtures.
func combine(as ...*analysis.Analyzer) *analysis.Analyzer {
	return &analysis.Analyzer{
		Name: "twelvefactor",
		Doc:  "runs every twelvefactor analyzer",
		Run: func(pass *analysis.Pass) (any, error) {
			for _, a := range as {
				p := *pass
				p.Analyzer = a
				if _, err := a.Run(&p); err != nil {
					return nil, err
				}
			}
			return nil, nil
		},
	}
}

// TestAnalyzers runs the analyzers over their fixtures in testdata/src/<rule>:
// bad (reported), good (not reported) and suppressed (reported here; the
// checklist applies the suppression), plus extra cases where present.
func TestAnalyzers(t *testing.T) {
	// Only ix1/bad/server lacks signal handling.
	as := analyzers.All(analyzers.Options{HandlesSignals: func(path string) bool { return path != "ix1/bad/server" }})
	patterns := []string{"i2/...", "ii3/...", "iii1/...", "iv1/...", "iv3/...", "vi1/...", "vii1/...", "ix1/...", "ix2/...", "ix5/...", "xi1/...", "xi2/...", "xi2cli/...", "v4/..."}
	analysistest.Run(t, analysistest.TestData(), combine(as...), patterns...)
}

// TestEnvReadConfigPackages checks that extra config packages may read the
// environment.
func TestEnvReadConfigPackages(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), analyzers.EnvRead([]string{"settings"}), "iii1opt/...")
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

// TestShutdownSubcommand checks that in a program whose server shuts down
// gracefully, a command package's local http.Serve is not reported, while
// a plain package's still is.
func TestShutdownSubcommand(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), analyzers.Shutdown(func(string) bool { return true }), "ix2sub/...")
}
