// Package checklist runs every twelvefactor rule over a repository: the
// file rules, and the Go code analyzers over the packages loaded with
// go/packages.
package checklist

import (
	"context"
	"errors"
	"fmt"
	"go/token"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/checker"
	"golang.org/x/tools/go/packages"

	tf "github.com/dozen-go/dozen/twelvefactor/internal/tf"
	"github.com/dozen-go/dozen/twelvefactor/internal/tf/analyzers"
	"github.com/dozen-go/dozen/twelvefactor/internal/tf/filerules"
)

// Run checks the repository at dir and returns the report. It fails only
// when the repository or its config cannot be read; code that does not
// compile turns the code rules into a note.
func Run(ctx context.Context, dir string) (*tf.Report, error) {
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", dir, err)
	}
	if fi, err := os.Stat(root); err != nil {
		return nil, fmt.Errorf("open repository: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("open repository: %s is not a directory", dir)
	}
	cfg, err := tf.LoadConfig(root)
	if err != nil {
		return nil, err
	}
	repo, err := tf.OpenRepo(root)
	if err != nil {
		return nil, err
	}
	c := &tf.Collector{}
	filerules.Check(repo, c)
	var notes []string
	if note := checkCode(ctx, repo, cfg, c); note != "" {
		notes = append(notes, note)
	}
	return tf.BuildReport(c, cfg, repo.Suppressions(), notes), nil
}

// checkCode runs the analyzers and returns a note when they could not run.
func checkCode(ctx context.Context, repo *tf.Repo, cfg *tf.Config, c *tf.Collector) string {
	var ids []string
	for _, a := range analyzers.All(analyzers.Options{}) {
		ids = append(ids, analyzers.RuleOf(a))
	}
	if !repo.Has("go.mod") {
		c.NotApplicable("no go.mod", ids...)
		return ""
	}
	pkgs, err := Load(ctx, repo.Root)
	if err != nil {
		c.NotApplicable("not run: the code does not load", ids...)
		return "Go code rules not run: " + err.Error()
	}
	pkgs = withoutTestHelpers(pkgs)
	good, bad := wellTyped(pkgs)
	if len(good) == 0 && len(bad) > 0 {
		c.NotApplicable("not run: the code does not compile", ids...)
		return "Go code rules not run: " + loadErrors(bad).Error()
	}
	if len(good) == 0 {
		c.NotApplicable("no Go packages", ids...)
		return ""
	}
	var note string
	if len(bad) > 0 {
		note = fmt.Sprintf("Go code rules skipped %d of %d packages that do not compile: %v", len(bad), len(bad)+len(good), loadErrors(bad))
	}
	signals := signalReach(pkgs)
	as := analyzers.All(analyzers.Options{
		ConfigPackages: cfg.ConfigPackages,
		HandlesSignals: func(path string) bool { return signals[path] },
	})
	findings, err := Analyze(repo.Root, as, good)
	if err != nil {
		c.NotApplicable("not run: analysis failed", ids...)
		return "Go code rules not run: " + err.Error()
	}
	for _, f := range findings {
		c.Add(f)
	}
	return note
}

// withoutTestHelpers leaves out the packages that import "testing": test
// helpers such as a pgtest package may read the environment and print as
// tests do, and never run in the service.
func withoutTestHelpers(pkgs []*packages.Package) []*packages.Package {
	var out []*packages.Package
	for _, p := range pkgs {
		if _, ok := p.Imports["testing"]; !ok {
			out = append(out, p)
		}
	}
	return out
}

// signalReach returns the paths of the packages that import os/signal
// directly or through any of their dependencies.
func signalReach(pkgs []*packages.Package) map[string]bool {
	reach := make(map[string]bool)
	packages.Visit(pkgs, nil, func(p *packages.Package) {
		for path, imp := range p.Imports {
			if path == "os/signal" || reach[imp.PkgPath] {
				reach[p.PkgPath] = true
			}
		}
	})
	return reach
}

// wellTyped splits the packages into those that, with all their
// dependencies, loaded without errors, and the others.
func wellTyped(pkgs []*packages.Package) (good, bad []*packages.Package) {
	ill := make(map[*packages.Package]bool)
	packages.Visit(pkgs, nil, func(p *packages.Package) {
		ill[p] = len(p.Errors) > 0 || len(p.TypeErrors) > 0
		for _, imp := range p.Imports {
			ill[p] = ill[p] || ill[imp]
		}
	})
	for _, p := range pkgs {
		if ill[p] {
			bad = append(bad, p)
		} else {
			good = append(good, p)
		}
	}
	return good, bad
}

// Load loads the packages of the module at root, without tests.
func Load(ctx context.Context, root string) ([]*packages.Package, error) {
	pcfg := &packages.Config{
		Context: ctx,
		Dir:     root,
		Mode: packages.NeedName | packages.NeedFiles | packages.NeedSyntax | packages.NeedTypes |
			packages.NeedTypesInfo | packages.NeedTypesSizes | packages.NeedImports | packages.NeedModule,
	}
	pkgs, err := packages.Load(pcfg, "./...")
	if err != nil {
		return nil, fmt.Errorf("load packages: %w", err)
	}
	return pkgs, nil
}

// loadErrors summarises the errors of the packages and their dependencies.
func loadErrors(pkgs []*packages.Package) error {
	var msgs []string
	packages.Visit(pkgs, nil, func(p *packages.Package) {
		for _, e := range p.Errors {
			msgs = append(msgs, e.Error())
		}
	})
	if len(msgs) == 0 {
		msgs = []string{"a dependency does not compile"}
	}
	switch len(msgs) {
	case 0:
		return nil
	case 1:
		return errors.New(msgs[0])
	}
	return fmt.Errorf("%s (and %d more errors)", msgs[0], len(msgs)-1)
}

// Analyze runs the analyzers over the packages and returns their
// diagnostics as findings with paths relative to root.
func Analyze(root string, as []*analysis.Analyzer, pkgs []*packages.Package) ([]tf.Finding, error) {
	g, err := checker.Analyze(as, pkgs, nil)
	if err != nil {
		return nil, fmt.Errorf("analyze: %w", err)
	}
	var out []tf.Finding
	for _, act := range g.Roots {
		if act.Err != nil {
			return nil, fmt.Errorf("%s on %s: %w", act.Analyzer.Name, act.Package.PkgPath, act.Err)
		}
		for _, d := range act.Diagnostics {
			pos := act.Package.Fset.Position(d.Pos)
			rel, ok := relPath(root, pos)
			if !ok || tf.OutsideService(rel) {
				continue // outside the repository, or test infrastructure
			}
			out = append(out, tf.Finding{Rule: d.Category, File: rel, Line: pos.Line, Column: pos.Column, Message: d.Message})
		}
	}
	return out, nil
}

// relPath returns the position's file relative to root, if inside it.
func relPath(root string, pos token.Position) (string, bool) {
	rel, err := filepath.Rel(root, pos.Filename)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}
