// Package checklist runs every twelvefactor rule over a repository: the
// file rules, and the Go code analyzers over the packages loaded with
// go/packages.
package checklist

import (
	"context"
	"errors"
	"fmt"
	"go/token"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/checker"
	"golang.org/x/tools/go/packages"

	tf "github.com/dozen-go/dozen/twelvefactor/internal/tf"
	"github.com/dozen-go/dozen/twelvefactor/internal/tf/analyzers"
	"github.com/dozen-go/dozen/twelvefactor/internal/tf/filerules"
)

// Options tune a run.
type Options struct {
	// LoadTimeout bounds the loading and type checking of each module's
	// Go packages, which runs the go command: a FIFO named like a .go file
	// or a hung module download would otherwise block the run. Zero
	// means DefaultLoadTimeout.
	LoadTimeout time.Duration
	// SkipCode leaves the Go code rules out on purpose: they are reported
	// off, and their absence is not an error. Without it, code rules that
	// could not run for a module (its packages did not load in time, or
	// the go command failed) are listed in Report.Skipped.
	SkipCode bool
	// Progress, when set, receives a line as each module's packages start
	// and finish loading: on a cold module cache loading takes minutes.
	Progress io.Writer
}

// DefaultLoadTimeout is the package load budget when none is given.
const DefaultLoadTimeout = 5 * time.Minute

// Run checks the repository at dir and returns the report. It fails only
// when the repository or its config cannot be read, or ctx ends; code that
// does not compile turns the code rules into a note.
func Run(ctx context.Context, dir string, opts Options) (*tf.Report, error) {
	if dir == "" {
		return nil, errors.New("open repository: the directory is an empty string")
	}
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
	scope := filerules.Check(repo, c)
	if len(cfg.Programs) > 0 {
		scope.Choose(cfg.Programs)
	}
	if opts.LoadTimeout <= 0 {
		opts.LoadTimeout = DefaultLoadTimeout
	}
	var notes, skipped []string
	if opts.SkipCode {
		c.NotApplicable("skipped on request (-skip code)", codeRules()...)
	} else {
		notes, skipped = checkCode(ctx, repo, cfg, scope, opts, c)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("check %s: %w", dir, context.Cause(ctx))
	}
	rep := tf.BuildReport(c, cfg, repo.Suppressions(), notes)
	rep.Skipped = skipped
	return rep, nil
}

// codeRules returns the IDs of the Go code rules.
func codeRules() []string {
	var ids []string
	for _, a := range analyzers.All(analyzers.Options{}) {
		ids = append(ids, analyzers.RuleOf(a))
	}
	return ids
}

// checkCode runs the analyzers over the service's packages, module by
// module, and returns notes about what it could not check or left out,
// and the modules whose code rules could not run at all.
func checkCode(ctx context.Context, repo *tf.Repo, cfg *tf.Config, scope *filerules.Scope, opts Options, c *tf.Collector) (notes, skipped []string) {
	ids := codeRules()
	if len(scope.Modules) == 0 {
		c.NotApplicable("no go.mod", ids...)
		return nil, nil
	}
	if !scope.All && len(scope.Others) > 0 && len(scope.Mains) > 0 {
		notes = append(notes, fmt.Sprintf("service rules judge the programs that serve and are deployed (%s) and the packages they import; left out %s",
			list(scope.Mains), list(scope.Others)))
	}
	if u := scope.Unconfirmed(); len(u) > 0 {
		notes = append(notes, fmt.Sprintf("no deploy file names %s, judged as the service only because they serve: their code findings are info, since they may be tools that serve a local UI; name the service in programs: of %s to judge it in full",
			list(u), tf.ConfigFile))
	}
	analyzed, failed := 0, 0
	for _, m := range scope.Modules {
		switch {
		case m.Tooling:
			notes = append(notes, fmt.Sprintf("module %s (%s) not checked: it builds against the module that encloses it, so it is that module's tooling", m.Dir, m.Path))
			continue
		case !scope.All && !scope.InModule(m):
			notes = append(notes, fmt.Sprintf("module %s (%s) not checked: none of its programs serves or is deployed", m.Dir, m.Path))
			continue
		}
		// Each module has its own budget: a slow first module must not
		// leave the others unchecked.
		loadCtx, cancel := context.WithTimeoutCause(ctx, opts.LoadTimeout,
			fmt.Errorf("loading the Go packages took longer than %v (-load-timeout)", opts.LoadTimeout))
		start := time.Now()
		progress(opts.Progress, "loading the Go packages of module %s (%s)", m.Dir, m.Path)
		n, note, err := checkModule(loadCtx, repo, cfg, scope, m, c)
		cancel()
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("module %s: %v", m.Dir, err))
			progress(opts.Progress, "module %s: Go code rules not run after %v: %v", m.Dir, time.Since(start).Round(time.Second), err)
		} else {
			progress(opts.Progress, "module %s: %d packages checked in %v", m.Dir, n, time.Since(start).Round(time.Second))
		}
		analyzed += n
		if note != "" {
			notes = append(notes, note)
			if n == 0 {
				failed++
			}
		}
	}
	switch {
	case analyzed > 0:
	case failed > 0:
		c.NotApplicable("not run: the code does not load or compile", ids...)
	case !scope.All && len(scope.Mains) == 0:
		c.NotApplicable("no program serves requests or is deployed", ids...)
	default:
		c.NotApplicable("no Go packages", ids...)
	}
	return notes, skipped
}

// progress writes a line to w, if set.
func progress(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, "twelvefactor: "+format+"\n", args...)
	}
}

// list names up to five directories.
func list(dirs []string) string {
	if len(dirs) > 5 {
		return fmt.Sprintf("%s and %d more", strings.Join(dirs[:5], ", "), len(dirs)-5)
	}
	return strings.Join(dirs, ", ")
}

// checkModule loads one module and runs the analyzers over its service
// packages. It returns how many packages it analyzed and a note when some
// or all could not be checked, and an error when the packages could not be
// loaded at all (the go command failed or ran out of time).
func checkModule(ctx context.Context, repo *tf.Repo, cfg *tf.Config, scope *filerules.Scope, m filerules.Module, c *tf.Collector) (int, string, error) {
	where := ""
	if m.Dir != "." {
		where = " in module " + m.Dir
	}
	pkgs, err := Load(ctx, filepath.Join(repo.Root, filepath.FromSlash(m.Dir)), scope.Tags, patterns(scope, m)...)
	if err != nil {
		if cause := context.Cause(ctx); cause != nil {
			err = cause
		}
		return 0, fmt.Sprintf("Go code rules not run%s: %v", where, err), err
	}
	pkgs = withoutTestHelpers(pkgs)
	var service []*packages.Package
	for _, p := range pkgs {
		if dir, ok := pkgDir(repo.Root, p); ok && scope.Has(dir) {
			service = append(service, p)
		}
	}
	good, bad := wellTyped(service)
	if len(good)+len(bad) == 0 {
		return 0, "", nil
	}
	var note string
	if len(bad) > 0 {
		// Code that does not compile (a generated file missing, a
		// dependency that does not build) is still checked, with what
		// its syntax and the types that did resolve show.
		note = fmt.Sprintf("Go code rules checked %d of %d packages%s that do not compile on their syntax and partial types alone, so some findings there may be missing: %v",
			len(bad), len(bad)+len(good), where, loadErrors(bad))
	}
	signals := signalReach(pkgs)
	shutdown := shutdownReach(pkgs)
	embedded := embeddedSQLite(pkgs)
	as := analyzers.All(analyzers.Options{
		ConfigPackages: cfg.ConfigPackages,
		HandlesSignals: func(path string) bool { return signals[path] },
		ShutsDown:      func(path string) bool { return shutdown[path] },
		Provided:       scope.Provided,
		EmbeddedSQLite: func(string) bool { return embedded },
	})
	var findings []tf.Finding
	for _, set := range []struct {
		pkgs     []*packages.Package
		illTyped bool
	}{{good, false}, {bad, true}} {
		if len(set.pkgs) == 0 {
			continue
		}
		run := as
		if set.illTyped {
			run = despiteErrors(as)
		}
		fs, err := Analyze(repo.Root, run, set.pkgs)
		switch {
		case err != nil && set.illTyped:
			note = fmt.Sprintf("Go code rules skipped %d of %d packages%s that do not compile: %v", len(bad), len(bad)+len(good), where, err)
			bad = nil
		case err != nil:
			return 0, fmt.Sprintf("Go code rules not run%s: %v", where, err), err
		}
		findings = append(findings, fs...)
	}
	for _, f := range findings {
		if scope.OnlyUnconfirmed(path.Dir(f.File)) {
			f.Hardening = true
			f.Message += " (info: no deploy file names this program, so it may be a tool rather than the service)"
		}
		c.Add(f)
	}
	return len(good) + len(bad), note, nil
}

// despiteErrors returns copies of the analyzers that also run on packages
// with errors, on whatever type information was recovered. Every analyzer
// reports only what it can resolve, so missing types cost findings, not
// false ones.
func despiteErrors(as []*analysis.Analyzer) []*analysis.Analyzer {
	out := make([]*analysis.Analyzer, len(as))
	for i, a := range as {
		cp := *a
		cp.RunDespiteErrors = true
		run := a.Run
		cp.Run = func(pass *analysis.Pass) (result any, err error) {
			// Partial type information is a state the analyzers were
			// not all written for: a panic costs this package's
			// findings of this rule, and says so, not the run.
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("%s on code that does not compile: %v", a.Name, r)
				}
			}()
			return run(pass)
		}
		out[i] = &cp
	}
	return out
}

// pkgDir returns the directory of a package's files relative to root.
func pkgDir(root string, p *packages.Package) (string, bool) {
	if len(p.GoFiles) == 0 {
		return "", false
	}
	rel, err := filepath.Rel(root, filepath.Dir(p.GoFiles[0]))
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

// shutdownReach returns the paths of the packages that belong to a main
// program in which some package shuts a server down gracefully: a helper
// package may stop the server that another package starts.
func shutdownReach(pkgs []*packages.Package) map[string]bool {
	stops := make(map[*packages.Package]bool)
	packages.Visit(pkgs, nil, func(p *packages.Package) {
		stops[p] = p.TypesInfo != nil && analyzers.StopsServers(p.TypesInfo)
		// Code that does not compile may call Shutdown on a value whose
		// type was lost: its syntax decides.
		stops[p] = stops[p] || (p.IllTyped && analyzers.SyntaxStopsServers(p.Syntax))
	})
	reach := make(map[string]bool)
	for _, p := range pkgs {
		if p.Name != "main" {
			continue
		}
		var deps []*packages.Package
		program := false
		packages.Visit([]*packages.Package{p}, nil, func(d *packages.Package) {
			deps = append(deps, d)
			program = program || stops[d]
		})
		if program {
			for _, d := range deps {
				reach[d.PkgPath] = true
			}
		}
	}
	return reach
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

// embeddedSQLite reports whether the loaded packages, with everything they
// import, reach a SQLite driver and no database server driver: a module
// whose data lives in SQLite files the process opens itself.
func embeddedSQLite(pkgs []*packages.Package) bool {
	sqlite, server := false, false
	packages.Visit(pkgs, nil, func(p *packages.Package) {
		switch analyzers.DriverKind(p.PkgPath) {
		case "sqlite":
			sqlite = true
		case "server":
			server = true
		}
	})
	return sqlite && !server
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

// patterns returns the package patterns to load in module m: the service's
// packages when the scope names them, so that the modules and packages
// only tools, generators and tests need are neither downloaded nor
// compiled; every package otherwise.
func patterns(scope *filerules.Scope, m filerules.Module) []string {
	if scope.All {
		return nil
	}
	var out []string
	for dir := range scope.Dirs {
		rel, ok := inModule(m.Dir, dir)
		if !ok || nestedModule(scope, m, dir) {
			continue
		}
		if rel == "." {
			out = append(out, ".")
		} else {
			out = append(out, "./"+rel)
		}
	}
	slices.Sort(out)
	return out
}

// inModule returns dir relative to the module directory mdir.
func inModule(mdir, dir string) (string, bool) {
	if mdir == "." {
		return dir, true
	}
	if dir == mdir {
		return ".", true
	}
	rel, ok := strings.CutPrefix(dir, mdir+"/")
	return rel, ok
}

// nestedModule reports whether dir lies in a module nested inside m.
func nestedModule(scope *filerules.Scope, m filerules.Module, dir string) bool {
	for _, o := range scope.Modules {
		if o.Dir == m.Dir {
			continue
		}
		if _, ok := inModule(o.Dir, dir); ok {
			if _, inside := inModule(m.Dir, o.Dir); inside {
				return true
			}
		}
	}
	return false
}

// Load loads the packages of the module at root, without tests, with the
// build tags the service is built with: the packages matching the
// patterns, or every package of the module when there are none.
func Load(ctx context.Context, root string, tags []string, patterns ...string) ([]*packages.Package, error) {
	pcfg := &packages.Config{
		Context: ctx,
		Dir:     root,
		Mode: packages.NeedName | packages.NeedFiles | packages.NeedSyntax | packages.NeedTypes |
			packages.NeedTypesInfo | packages.NeedTypesSizes | packages.NeedImports | packages.NeedModule,
	}
	if len(tags) > 0 {
		pcfg.BuildFlags = []string{"-tags=" + strings.Join(tags, ",")}
	}
	if len(patterns) == 0 {
		patterns = []string{"./..."}
	}
	pkgs, err := packages.Load(pcfg, patterns...)
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
			out = append(out, tf.Finding{Rule: d.Category, File: rel, Line: pos.Line, Column: pos.Column, Message: d.Message, Hardening: analyzers.IsInfo(d.Message)})
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
