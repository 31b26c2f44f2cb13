// Package analyzers holds the go/analysis analyzers behind the checklist's
// Go code rules. Each analyzer reports diagnostics whose Category is the ID
// of its rule; package checklist turns them into findings.
package analyzers

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/types"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/types/typeutil"
)

// Options configure the analyzers.
type Options struct {
	// ConfigPackages are import path suffixes of packages, besides those
	// ending in /config, that may read the environment (rule III1).
	ConfigPackages []string
	// HandlesSignals reports whether a package or one it imports, at any
	// depth, imports os/signal. The driver knows the whole import graph;
	// nil turns off IX1's check for servers that never handle signals.
	HandlesSignals func(pkgPath string) bool
	// Provided reports whether the service's image installs a system
	// tool (II3); nil knows of none.
	Provided func(tool string) bool
	// ShutsDown reports whether a package belongs to a program in which
	// some package stops a server gracefully; nil limits IX2 to the
	// package's own calls.
	ShutsDown func(pkgPath string) bool
	// EmbeddedSQLite reports whether a package belongs to a program that
	// keeps its data only in SQLite files: the program reaches a SQLite
	// driver and no database server driver (V4). nil judges from the
	// package's own imports.
	EmbeddedSQLite func(pkgPath string) bool
}

// All returns every analyzer, configured.
func All(opts Options) []*analysis.Analyzer {
	return []*analysis.Analyzer{
		DeployBranch,
		SystemTool(opts.Provided),
		EnvRead(opts.ConfigPackages),
		LiteralDSN,
		InsecureTLS,
		LocalWrite,
		ListenAddr,
		Signals(opts.HandlesSignals),
		Shutdown(opts.ShutsDown),
		Exit,
		LogFiles,
		Migrations(opts.EmbeddedSQLite),
		StrayPrint,
	}
}

// visit calls f for every node of the package's non-generated files, with
// the top-level function declaration that encloses it (nil outside one).
func visit(pass *analysis.Pass, f func(n ast.Node, decl *ast.FuncDecl, file *ast.File)) {
	for _, file := range pass.Files {
		if ast.IsGenerated(file) {
			continue
		}
		for _, d := range file.Decls {
			fd, _ := d.(*ast.FuncDecl)
			ast.Inspect(d, func(n ast.Node) bool {
				if n != nil {
					f(n, fd, file)
				}
				return true
			})
		}
	}
}

// calls calls f for every call of a function or method, with its callee.
func calls(pass *analysis.Pass, f func(call *ast.CallExpr, fn *types.Func, decl *ast.FuncDecl)) {
	visit(pass, func(n ast.Node, decl *ast.FuncDecl, _ *ast.File) {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return
		}
		if fn, ok := typeutil.Callee(pass.TypesInfo, call).(*types.Func); ok {
			f(call, fn, decl)
		}
	})
}

// isFunc reports whether fn is a package-level function of pkg with one of
// the names.
func isFunc(fn *types.Func, pkg string, names ...string) bool {
	if fn.Pkg() == nil || fn.Pkg().Path() != pkg || fn.Signature().Recv() != nil {
		return false
	}
	for _, n := range names {
		if fn.Name() == n {
			return true
		}
	}
	return false
}

// recvType returns "pkgpath.TypeName" for a method, or "".
func recvType(fn *types.Func) string {
	recv := fn.Signature().Recv()
	if recv == nil {
		return ""
	}
	t := recv.Type()
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	if n, ok := types.Unalias(t).(*types.Named); ok && n.Obj().Pkg() != nil {
		return n.Obj().Pkg().Path() + "." + n.Obj().Name()
	}
	return ""
}

// isMethod reports whether fn is a method of the type ("net/http.Server")
// with one of the names.
func isMethod(fn *types.Func, typ string, names ...string) bool {
	if recvType(fn) != typ {
		return false
	}
	for _, n := range names {
		if fn.Name() == n {
			return true
		}
	}
	return false
}

// constString returns the value of a constant string expression.
func constString(pass *analysis.Pass, e ast.Expr) (string, bool) {
	tv, ok := pass.TypesInfo.Types[e]
	if !ok || tv.Value == nil || tv.Value.Kind() != constant.String {
		return "", false
	}
	return constant.StringVal(tv.Value), true
}

// isMainFunc reports whether decl is func main of package main.
func isMainFunc(pass *analysis.Pass, decl *ast.FuncDecl) bool {
	return pass.Pkg.Name() == "main" && decl != nil && decl.Recv == nil && decl.Name.Name == "main"
}

// infoNote begins the note that marks a diagnostic as advice: the
// checklist reports it at info, whatever the rule's severity.
const infoNote = " (info: "

// reportInfo reports a diagnostic for the analyzer's rule as advice, with
// the reason in its note.
func reportInfo(pass *analysis.Pass, rule string, n ast.Node, reason, format string, args ...any) {
	report(pass, rule, n, format+infoNote+reason+")", args...)
}

// IsInfo reports whether a diagnostic's message marks it as advice, to be
// reported at info.
func IsInfo(message string) bool { return strings.Contains(message, infoNote) }

// report reports a diagnostic for the analyzer's rule.
func report(pass *analysis.Pass, rule string, n ast.Node, format string, args ...any) {
	pass.Report(analysis.Diagnostic{Pos: n.Pos(), End: n.End(), Category: rule, Message: fmt.Sprintf(format, args...)})
}

// pathHasSuffix reports whether an import path is suffix or ends in
// "/"+suffix.
func pathHasSuffix(path, suffix string) bool {
	return path == suffix || strings.HasSuffix(path, "/"+suffix)
}

// int64Val returns an integer constant's value.
func int64Val(tv types.TypeAndValue) (int64, bool) {
	return constant.Int64Val(constant.ToInt(tv.Value))
}

// RuleOf returns the ID of the rule an analyzer checks.
func RuleOf(a *analysis.Analyzer) string {
	id, _, _ := strings.Cut(a.Doc, ":")
	return id
}
