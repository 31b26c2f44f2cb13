package analyzers_test

import (
	"testing"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/dozen-go/dozen/twelvefactor/analyzers"
)

// combine runs every analyzer on each package in one analysistest.Run,
// which loads the fixtures once.
func combine(as []*analysis.Analyzer) *analysis.Analyzer {
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

// TestDiagnostics checks that diagnostics start with their rule's ID,
// that a suppression comment with a reason silences them (one without a
// reason does not), and that example programs are left out.
func TestDiagnostics(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), combine(analyzers.All()), "svc", "examples/demo")
}

// TestLookup checks that every analyzer is found by name and by rule, and
// passes the checks drivers make.
func TestLookup(t *testing.T) {
	all := analyzers.All()
	if len(all) == 0 {
		t.Fatal("All() is empty")
	}
	if err := analysis.Validate(all); err != nil {
		t.Fatalf("Validate(All()) = %v", err)
	}
	for _, a := range all {
		rule := analyzers.Rule(a)
		if rule == "" {
			t.Errorf("Rule(%s) is empty", a.Name)
		}
		if got := analyzers.Lookup(a.Name); got != a {
			t.Errorf("Lookup(%q) = %v, want the analyzer", a.Name, got)
		}
		if got := analyzers.Lookup(rule); got != a {
			t.Errorf("Lookup(%q) = %v, want %s", rule, got, a.Name)
		}
	}
	if a := analyzers.Lookup("III3"); a != nil {
		t.Errorf("Lookup(III3) = %s, want nil: III3 is a file rule", a.Name)
	}
	if r := analyzers.Rule(&analysis.Analyzer{Name: "other"}); r != "" {
		t.Errorf("Rule(other) = %q, want empty", r)
	}
}
