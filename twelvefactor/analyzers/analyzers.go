// Package analyzers exposes twelvefactor's Go code rules as go/analysis
// analyzers, for the drivers Go teams already run: go vet -vettool (see
// cmd/twelvefactor-vet), a golangci-lint module plugin (see package
// golangciplugin), gopls, or a driver of your own.
//
// Each analyzer checks one rule of the checklist. Its diagnostics start
// with the rule's ID ("IX1: ..."), carry it as their Category, and honour
// the checklist's suppression comments:
//
//	//twelvefactor:ignore VI1 the cache file lives on an emptyDir volume
//
// A driver sees one package at a time, so three things the twelvefactor
// command knows about the whole repository are not known here:
//
//   - which programs are the deployed service: every package the driver is
//     given is judged as service code, except packages under test, example
//     and mock directories (point the driver at the service's packages,
//     e.g. go vet -vettool=... ./cmd/server/... ./internal/...);
//   - whether a server's program handles signals in another package: IX1
//     reports only signal handling that is present and incomplete;
//   - whether a server is shut down in another package of its program:
//     IX2 looks only at the package's own calls.
//
// The rules about files (Dockerfiles, manifests, the Procfile, go.mod,
// migrations, committed secrets) are not analyzers; run the twelvefactor
// command for the whole checklist.
package analyzers

import (
	"fmt"
	"go/ast"
	"os"
	"slices"
	"strings"
	"sync"

	"golang.org/x/tools/go/analysis"

	tf "github.com/dozen-go/dozen/twelvefactor/internal/tf"
	internal "github.com/dozen-go/dozen/twelvefactor/internal/tf/analyzers"
)

// all holds the wrapped analyzers, built once so that each has one
// identity for every driver that asks.
var all = sync.OnceValue(func() []*analysis.Analyzer {
	var out []*analysis.Analyzer
	for _, a := range internal.All(internal.Options{}) {
		out = append(out, wrap(a))
	}
	return out
})

// All returns every analyzer, in the order of the checklist's rules.
// The slice is new on each call; the analyzers are shared.
func All() []*analysis.Analyzer {
	return slices.Clone(all())
}

// Rule returns the ID of the rule an analyzer of this package checks
// ("IX1"), or "" for any other analyzer.
func Rule(a *analysis.Analyzer) string {
	if !slices.Contains(all(), a) {
		return ""
	}
	return internal.RuleOf(a)
}

// Lookup returns the analyzer with the name ("signals") or checking the
// rule ("IX1"), or nil.
func Lookup(nameOrRule string) *analysis.Analyzer {
	for _, a := range all() {
		if a.Name == nameOrRule || strings.EqualFold(internal.RuleOf(a), nameOrRule) {
			return a
		}
	}
	return nil
}

// wrap returns an analyzer that runs a and reports its diagnostics with
// the rule ID in front, except those on lines a suppression comment covers
// and those in test or example code.
func wrap(a *analysis.Analyzer) *analysis.Analyzer {
	w := *a
	rule := internal.RuleOf(a)
	w.Run = func(pass *analysis.Pass) (any, error) {
		if outside(pass) {
			return nil, nil
		}
		sup := suppressions(pass)
		p := *pass
		p.Report = func(d analysis.Diagnostic) {
			pos := pass.Fset.Position(d.Pos)
			if sup[fileLine{pos.Filename, pos.Line}][rule] {
				return
			}
			if d.Category == "" {
				d.Category = rule
			}
			d.Message = fmt.Sprintf("%s: %s", rule, d.Message)
			pass.Report(d)
		}
		return a.Run(&p)
	}
	return &w
}

// outside reports whether the package lies in test infrastructure or
// example code (a directory named test, e2e, examples, mocks, …), which
// the checklist leaves out of the service.
func outside(pass *analysis.Pass) bool {
	path := pass.Pkg.Path()
	if pass.Module != nil && pass.Module.Path != "" {
		if rel, ok := strings.CutPrefix(path, pass.Module.Path+"/"); ok {
			path = rel
		} else if path == pass.Module.Path {
			return false
		}
	}
	return tf.OutsideService(path + "/x.go")
}

type fileLine struct {
	file string
	line int
}

// suppressions returns, for each file and line of the package, the rules
// that a twelvefactor:ignore comment with a reason suppresses there.
func suppressions(pass *analysis.Pass) map[fileLine]map[string]bool {
	out := make(map[fileLine]map[string]bool)
	for _, f := range pass.Files {
		if !hasMarker(f) {
			continue
		}
		name := pass.Fset.File(f.Pos()).Name()
		read := pass.ReadFile
		if read == nil {
			read = os.ReadFile
		}
		content, err := read(name)
		if err != nil {
			continue
		}
		for _, s := range tf.ParseSuppressions(name, content) {
			if s.Reason == "" {
				continue // the checklist reports it (L1); here it suppresses nothing
			}
			k := fileLine{name, s.Target}
			if out[k] == nil {
				out[k] = make(map[string]bool)
			}
			for _, id := range s.Rules {
				out[k][id] = true
			}
		}
	}
	return out
}

// hasMarker reports whether a comment of the file holds a suppression.
func hasMarker(f *ast.File) bool {
	for _, cg := range f.Comments {
		for _, c := range cg.List {
			if strings.Contains(c.Text, "twelvefactor:ignore") {
				return true
			}
		}
	}
	return false
}
