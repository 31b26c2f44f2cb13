package filerules_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	tf "github.com/dozen-go/dozen/twelvefactor/internal/tf"
	"github.com/dozen-go/dozen/twelvefactor/internal/tf/filerules"
	"github.com/dozen-go/dozen/twelvefactor/internal/tf/fixture"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// check runs the file rules over a copy of the fixture, with its config
// and suppressions, as the checklist does.
func check(t *testing.T, dir string) *tf.Report {
	t.Helper()
	root := fixture.Copy(t, dir)
	cfg, err := tf.LoadConfig(root)
	if err != nil {
		t.Fatal(err)
	}
	repo, err := tf.OpenRepo(root)
	if err != nil {
		t.Fatal(err)
	}
	c := &tf.Collector{}
	filerules.Check(repo, c)
	return tf.BuildReport(c, cfg, repo.Suppressions(), nil)
}

// outcome returns the rule's outcome in the report.
func outcome(t *testing.T, rep *tf.Report, id string) tf.Outcome {
	t.Helper()
	for _, o := range rep.Outcomes {
		if o.Rule.ID == id {
			return o
		}
	}
	t.Fatalf("no outcome for rule %s", id)
	return tf.Outcome{}
}

// render lists an outcome's findings, one per line.
func render(o tf.Outcome) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", o.Rule.ID, o.Status)
	for _, f := range o.Findings {
		state := "active"
		if f.Suppressed {
			state = "suppressed: " + f.Reason
		}
		fmt.Fprintf(&b, "%s: %s (%s)\n", f.Location(), f.Message, state)
	}
	return b.String()
}

// TestRules checks every rule against its fixtures in testdata/<ID>: bad
// must have active findings (listed in bad.golden), good must pass, and
// suppressed must have findings, all suppressed.
func TestRules(t *testing.T) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		id := e.Name()
		if _, ok := tf.Lookup(id); !ok {
			t.Errorf("testdata/%s names no rule", id)
			continue
		}
		t.Run(id, func(t *testing.T) {
			bad := outcome(t, check(t, filepath.Join("testdata", id, "bad")), id)
			if active, _ := bad.Counts(); active == 0 {
				t.Errorf("Check(%s/bad) = %s, want active findings", id, render(bad))
			}
			golden := filepath.Join("testdata", id, "bad.golden")
			if *update {
				if err := os.WriteFile(golden, []byte(render(bad)), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if diff := cmp.Diff(string(want), render(bad)); diff != "" {
				t.Errorf("Check(%s/bad) mismatch (-want +got):\n%s", id, diff)
			}

			good := outcome(t, check(t, filepath.Join("testdata", id, "good")), id)
			if good.Status != tf.Pass {
				t.Errorf("Check(%s/good) = %s, want pass", id, render(good))
			}

			sup := outcome(t, check(t, filepath.Join("testdata", id, "suppressed")), id)
			if active, suppressed := sup.Counts(); active != 0 || suppressed == 0 {
				t.Errorf("Check(%s/suppressed) = %s, want only suppressed findings", id, render(sup))
			}
		})
	}
}
