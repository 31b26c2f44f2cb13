package analyzers

import (
	"go/ast"
	"go/build/constraint"
	"go/token"
	"go/types"
	"path/filepath"
	"regexp"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/ast/astutil"
	"golang.org/x/tools/go/types/typeutil"
)

// SystemTool returns the II3 analyzer: exec.Command with a constant
// program name looked up in PATH depends on a tool nobody declared. A path
// ("./bin/tool", "/usr/bin/tool") names its binary explicitly; a tool the
// service's image installs (provided says so; nil knows none) is declared;
// a tool the package probes for first (exec.LookPath, which) is optional,
// and so is one whose failure the code tolerates (the error branch returns
// no error or only logs); a run on another platform's code path (a
// _darwin.go or _windows.go file, a build constraint Linux does not meet,
// a branch on runtime.GOOS naming another system) needs nothing of the
// Linux image; the go command is a developer tool's job.
func SystemTool(provided func(tool string) bool) *analysis.Analyzer {
	return &analysis.Analyzer{
		Name: "systemtool",
		Doc:  "II3: report exec.Command calls that run a fixed system tool",
		Run: func(pass *analysis.Pass) (any, error) {
			probed := map[string]bool{"which": true}
			type run struct {
				call *ast.CallExpr
				fn   string
				tool string
			}
			var runs []run
			otherOS := make(map[*ast.File]bool)
			for _, f := range pass.Files {
				otherOS[f] = otherPlatformFile(pass.Fset.File(f.Pos()).Name(), f)
			}
			visit(pass, func(n ast.Node, _ *ast.FuncDecl, file *ast.File) {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return
				}
				fn, ok := typeutil.Callee(pass.TypesInfo, call).(*types.Func)
				if !ok {
					return
				}
				arg := -1
				switch {
				case isFunc(fn, "os/exec", "LookPath") && len(call.Args) == 1:
					if name, ok := constString(pass, call.Args[0]); ok {
						probed[name] = true
					}
					return
				case isFunc(fn, "os/exec", "Command"):
					arg = 0
				case isFunc(fn, "os/exec", "CommandContext"):
					arg = 1
				}
				if arg < 0 || len(call.Args) <= arg {
					return
				}
				name, ok := constString(pass, call.Args[arg])
				if !ok || strings.ContainsRune(name, '/') || goTools[name] {
					return
				}
				if name == "which" && len(call.Args) > arg+1 {
					if probe, ok := constString(pass, call.Args[arg+1]); ok {
						probed[probe] = true
					}
				}
				if otherOS[file] || optionalRun(pass, file, call) {
					return
				}
				runs = append(runs, run{call, fn.Name(), name})
			})
			for _, r := range runs {
				if probed[r.tool] || (provided != nil && provided(r.tool)) {
					continue
				}
				report(pass, "II3", r.call, "exec.%s runs %q, a system tool the image must provide", r.fn, r.tool)
			}
			return nil, nil
		},
	}
}

// goTools are the Go toolchain's commands. A program that runs them is a
// developer tool (a generator, a build helper), not a service: no service
// image ships the toolchain, and V1 and V2 judge an image that does.
var goTools = map[string]bool{"go": true, "gofmt": true, "goimports": true, "gopls": true}

// dsnFunc is a function whose argument is a connection string.
type dsnFunc struct {
	pkg   *regexp.Regexp // the import path
	names []string
	arg   int // -1: the last argument
}

// dsnFuncs are the functions that take a connection string.
var dsnFuncs = []dsnFunc{
	{regexp.MustCompile(`^database/sql$`), []string{"Open"}, 1},
	{regexp.MustCompile(`^github\.com/jmoiron/sqlx$`), []string{"Open", "Connect", "MustOpen", "MustConnect"}, 1},
	{regexp.MustCompile(`^github\.com/jackc/pgx/v[0-9]+(/pgxpool)?$`), []string{"Connect", "ParseConfig", "New"}, -1},
	{regexp.MustCompile(`^github\.com/(redis/go-redis|go-redis/redis)/v[0-9]+$`), []string{"ParseURL", "ParseClusterURL"}, 0},
	{regexp.MustCompile(`^github\.com/golang-migrate/migrate/v[0-9]+$`), []string{"New"}, 1},
	{regexp.MustCompile(`^gorm\.io/driver/(postgres|mysql)$`), []string{"Open"}, 0},
	{regexp.MustCompile(`^go\.mongodb\.org/mongo-driver(/v2)?/mongo/options$`), []string{"ApplyURI"}, 0},
	{regexp.MustCompile(`^github\.com/nats-io/nats\.go$`), []string{"Connect"}, 0},
	{regexp.MustCompile(`^github\.com/rabbitmq/amqp091-go$`), []string{"Dial"}, 0},
}

// inMemory reports whether a DSN names no external service.
func inMemory(dsn string) bool {
	return dsn == "" || strings.Contains(dsn, ":memory:") || strings.Contains(dsn, "mode=memory")
}

// LiteralDSN is the IV1 analyzer: connection strings passed as constants.
var LiteralDSN = &analysis.Analyzer{
	Name: "literaldsn",
	Doc:  "IV1: report constant connection strings passed to database and queue clients",
	Run: func(pass *analysis.Pass) (any, error) {
		calls(pass, func(call *ast.CallExpr, fn *types.Func, _ *ast.FuncDecl) {
			if fn.Pkg() == nil {
				return
			}
			for _, d := range dsnFuncs {
				if !d.pkg.MatchString(fn.Pkg().Path()) || !hasName(fn.Name(), d.names) {
					continue
				}
				arg := d.arg
				if arg < 0 {
					arg = len(call.Args) - 1 // pgx: (ctx, connString) or (connString)
				}
				if arg >= len(call.Args) {
					return
				}
				if embeddedDriver(pass, fn, call) {
					return // an embedded database is a file, not an attached service
				}
				if dsn, ok := constString(pass, call.Args[arg]); ok && !inMemory(dsn) {
					report(pass, "IV1", call.Args[arg], "%s.%s is given the constant connection string %q", fn.Pkg().Name(), fn.Name(), redact(dsn))
				}
				return
			}
		})
		return nil, nil
	},
}

// embeddedDriver reports whether a database/sql or sqlx call opens an
// embedded database (SQLite), whose DSN is a local file name.
func embeddedDriver(pass *analysis.Pass, fn *types.Func, call *ast.CallExpr) bool {
	if (fn.Pkg().Path() != "database/sql" && fn.Pkg().Path() != "github.com/jmoiron/sqlx") || len(call.Args) == 0 {
		return false
	}
	driver, _ := constString(pass, call.Args[0])
	return strings.HasPrefix(driver, "sqlite") || driver == "duckdb"
}

// hasName reports whether name is in names.
func hasName(name string, names []string) bool {
	for _, n := range names {
		if n == name {
			return true
		}
	}
	return false
}

// redact hides a password in a DSN before it is printed.
func redact(dsn string) string {
	scheme, rest, ok := strings.Cut(dsn, "://")
	if !ok {
		return dsn
	}
	at := strings.LastIndex(rest, "@") // a password may hold an @
	if at < 0 {
		return dsn
	}
	cred, host := rest[:at], rest[at+1:]
	if user, _, ok := strings.Cut(cred, ":"); ok {
		return scheme + "://" + user + ":xxxxx@" + host
	}
	return dsn
}

// InsecureTLS is the IV3 analyzer: InsecureSkipVerify set to constant true
// where no setting decides it. A constant inside an if statement is taken
// to be behind a setting (if cfg.InsecureSkipVerify { … = true }), and so
// is one held by a variable or a function (an insecure client kept beside
// the secure one) that the package uses only where a setting decides.
var InsecureTLS = &analysis.Analyzer{
	Name: "insecuretls",
	Doc:  "IV3: report InsecureSkipVerify: true that no setting controls",
	Run: func(pass *analysis.Pass) (any, error) {
		isTrue := func(e ast.Expr) bool {
			tv, ok := pass.TypesInfo.Types[e]
			return ok && tv.Value != nil && tv.Value.String() == "true"
		}
		isField := func(id *ast.Ident) bool {
			v, ok := pass.TypesInfo.Uses[id].(*types.Var)
			return ok && v.Pkg() != nil && v.Pkg().Path() == "crypto/tls" && v.Name() == "InsecureSkipVerify"
		}
		var guarded map[ast.Node]bool
		always := func(file *ast.File, n ast.Node) {
			if guarded == nil {
				guarded = settingGuarded(pass)
			}
			if !chosenBySetting(pass, file, n, guarded) {
				report(pass, "IV3", n, "InsecureSkipVerify is always true")
			}
		}
		for _, file := range pass.Files {
			if ast.IsGenerated(file) {
				continue
			}
			inspectUnguarded(file, func(n ast.Node) {
				switch n := n.(type) {
				case *ast.KeyValueExpr:
					if id, ok := n.Key.(*ast.Ident); ok && isField(id) && isTrue(n.Value) {
						always(file, n)
					}
				case *ast.AssignStmt:
					for i, lhs := range n.Lhs {
						sel, ok := lhs.(*ast.SelectorExpr)
						if ok && i < len(n.Rhs) && isField(sel.Sel) && isTrue(n.Rhs[i]) {
							always(file, n)
						}
					}
				}
			})
		}
		return nil, nil
	},
}

// chosenBySetting reports whether the insecure configuration at n is held
// by something the package uses only where a setting decides: the variable
// it is assigned to, or the package-level variable or function that holds
// it, used at least once and only inside an if statement or a switch case
// or as a value of a ternary-like call whose first argument is a bool
// setting (pick(cfg.AllowInsecure, insecureClient, client)).
func chosenBySetting(pass *analysis.Pass, file *ast.File, n ast.Node, guarded map[ast.Node]bool) bool {
	path, _ := astutil.PathEnclosingInterval(file, n.Pos(), n.End())
	var holders []types.Object
	local := true // the innermost variable only, inside a function
	for i, p := range path {
		switch p := p.(type) {
		case *ast.AssignStmt:
			if i == 0 || !local || len(p.Lhs) != len(p.Rhs) {
				continue
			}
			for j, r := range p.Rhs {
				if r.Pos() <= n.Pos() && n.End() <= r.End() {
					if id, ok := p.Lhs[j].(*ast.Ident); ok {
						holders = append(holders, pass.TypesInfo.ObjectOf(id))
					}
				}
			}
			local = false
		case *ast.ValueSpec:
			top := i+2 < len(path) && isFile(path[i+2])
			if !top && !local {
				continue
			}
			for j, v := range p.Values {
				if j < len(p.Names) && v.Pos() <= n.Pos() && n.End() <= v.End() {
					holders = append(holders, pass.TypesInfo.Defs[p.Names[j]])
				}
			}
			local = false
		case *ast.FuncDecl:
			if p.Recv == nil {
				holders = append(holders, pass.TypesInfo.Defs[p.Name])
			}
		}
	}
	for _, h := range holders {
		if h != nil && usedOnlyBySetting(pass, h, guarded) {
			return true
		}
	}
	return false
}

// isFile reports whether n is a file: a declaration directly in it is at
// package level.
func isFile(n ast.Node) bool {
	_, ok := n.(*ast.File)
	return ok
}

// usedOnlyBySetting reports whether the package uses obj at least once and
// only where a setting decides (see chosenBySetting).
func usedOnlyBySetting(pass *analysis.Pass, obj types.Object, guarded map[ast.Node]bool) bool {
	picked := make(map[*ast.Ident]bool)
	for _, file := range pass.Files {
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) < 2 || !boolSetting(pass, call.Args[0]) {
				return true
			}
			for _, a := range call.Args[1:] {
				e := ast.Unparen(a)
				if c, ok := e.(*ast.CallExpr); ok && len(c.Args) == 0 {
					e = ast.Unparen(c.Fun)
				}
				if id, ok := e.(*ast.Ident); ok {
					picked[id] = true
				}
			}
			return true
		})
	}
	uses := 0
	for id, o := range pass.TypesInfo.Uses {
		if o != obj {
			continue
		}
		if !guarded[id] && !picked[id] {
			return false
		}
		uses++
	}
	return uses > 0
}

// boolSetting reports whether e is a bool variable or field that is not a
// constant: the setting a ternary-like helper picks by.
func boolSetting(pass *analysis.Pass, e ast.Expr) bool {
	e = ast.Unparen(e)
	switch e.(type) {
	case *ast.Ident, *ast.SelectorExpr:
	default:
		return false
	}
	tv, ok := pass.TypesInfo.Types[e]
	if !ok || tv.Value != nil {
		return false
	}
	b, ok := tv.Type.Underlying().(*types.Basic)
	return ok && b.Kind() == types.Bool
}

// knownOS are the GOOS values a file name suffix or a build constraint may
// name.
var knownOS = map[string]bool{"aix": true, "android": true, "darwin": true, "dragonfly": true, "freebsd": true, "hurd": true, "illumos": true, "ios": true, "js": true, "linux": true, "nacl": true, "netbsd": true, "openbsd": true, "plan9": true, "solaris": true, "wasip1": true, "windows": true, "zos": true}

// otherPlatformFile reports whether a Go file is built only for systems
// other than Linux: its name ends in _GOOS.go or _GOOS_GOARCH.go for
// another system, or its //go:build line is false on Linux (tags other
// than systems count as set).
func otherPlatformFile(name string, f *ast.File) bool {
	base := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(name), ".go"), "_test")
	parts := strings.Split(base, "_")
	for _, i := range []int{len(parts) - 1, len(parts) - 2} {
		if i >= 1 && knownOS[parts[i]] {
			return parts[i] != "linux"
		}
	}
	for _, g := range f.Comments {
		if g.Pos() >= f.Package {
			break
		}
		for _, c := range g.List {
			if !constraint.IsGoBuild(c.Text) {
				continue
			}
			expr, err := constraint.Parse(c.Text)
			if err != nil {
				return false
			}
			return !expr.Eval(func(tag string) bool {
				return tag == "linux" || tag == "unix" || !knownOS[tag]
			})
		}
	}
	return false
}

// optionalRun reports whether a command's run is optional: inside a branch
// on runtime.GOOS that names another system, or followed by an error check
// whose branch tolerates the failure (returns no error, or only logs).
func optionalRun(pass *analysis.Pass, file *ast.File, call *ast.CallExpr) bool {
	path, _ := astutil.PathEnclosingInterval(file, call.Pos(), call.End())
	for i, p := range path {
		switch p := p.(type) {
		case *ast.IfStmt:
			if i > 0 && path[i-1] == p.Body && goosOther(pass, p.Cond) {
				return true
			}
		case *ast.CaseClause:
			if len(p.List) > 0 && i+2 < len(path) {
				if sw, ok := path[i+2].(*ast.SwitchStmt); ok && sw.Tag != nil && isGOOS(pass, sw.Tag) {
					other := true
					for _, e := range p.List {
						v, ok := constString(pass, e)
						other = other && ok && v != "linux"
					}
					if other {
						return true
					}
				}
			}
		}
	}
	// The statement that runs the command, the error it assigns, and the
	// check that follows it.
	var st ast.Stmt
	var block []ast.Stmt
	var fnType *ast.FuncType
	for i, p := range path {
		if s, ok := p.(ast.Stmt); ok && st == nil {
			st = s
			if i+1 < len(path) {
				switch parent := path[i+1].(type) {
				case *ast.BlockStmt:
					block = parent.List
				case *ast.IfStmt:
					if parent.Init == s {
						block = []ast.Stmt{s, parent}
					}
				}
			}
		}
		switch p := p.(type) {
		case *ast.FuncDecl:
			fnType = p.Type
		case *ast.FuncLit:
			fnType = p.Type
		}
		if fnType != nil {
			break
		}
	}
	if fnType == nil {
		return false
	}
	as, ok := st.(*ast.AssignStmt)
	if !ok {
		return false
	}
	// cmd := exec.Command(…) then out, err := cmd.Output(): the run is
	// the later statement that calls a method of cmd.
	if len(as.Lhs) == 1 && as.Tok == token.DEFINE {
		if id, ok := as.Lhs[0].(*ast.Ident); ok && isExecCmd(pass.TypesInfo.ObjectOf(id)) {
			cmd := pass.TypesInfo.ObjectOf(id)
			for i, s := range block {
				if s != st {
					continue
				}
				for k, later := range block[i+1:] {
					run, rest := later, block[i+2+k:]
					if ifs, ok := later.(*ast.IfStmt); ok && ifs.Init != nil {
						run, rest = ifs.Init, []ast.Stmt{ifs}
					}
					if a, ok := run.(*ast.AssignStmt); ok && len(a.Rhs) == 1 && callsMethodOf(pass, a.Rhs[0], cmd) {
						return errorTolerated(pass, a, append([]ast.Stmt{a}, rest...), fnType)
					}
				}
			}
			return false
		}
	}
	return errorTolerated(pass, as, block, fnType)
}

// errorTolerated reports whether the error that as assigns is checked by
// the statement after it in block, whose branch tolerates the failure.
func errorTolerated(pass *analysis.Pass, as *ast.AssignStmt, block []ast.Stmt, fnType *ast.FuncType) bool {
	var errObj types.Object
	for _, l := range as.Lhs {
		if id, ok := l.(*ast.Ident); ok {
			if o := pass.TypesInfo.ObjectOf(id); o != nil && isErrorType(o.Type()) {
				errObj = o
			}
		}
	}
	if errObj == nil {
		return false
	}
	for i, s := range block {
		if s != as || i+1 >= len(block) {
			continue
		}
		ifs, ok := block[i+1].(*ast.IfStmt)
		if !ok || !errNotNil(pass, ifs.Cond, errObj) {
			return false
		}
		return tolerates(pass, ifs.Body, fnType)
	}
	return false
}

// isExecCmd reports whether obj is a variable of type *exec.Cmd.
func isExecCmd(obj types.Object) bool {
	v, ok := obj.(*types.Var)
	if !ok {
		return false
	}
	p, ok := v.Type().(*types.Pointer)
	if !ok {
		return false
	}
	n, ok := types.Unalias(p.Elem()).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == "os/exec" && n.Obj().Name() == "Cmd"
}

// callsMethodOf reports whether e is a call of a method of the variable obj.
func callsMethodOf(pass *analysis.Pass, e ast.Expr, obj types.Object) bool {
	call, ok := ast.Unparen(e).(*ast.CallExpr)
	if !ok {
		return false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	id, ok := ast.Unparen(sel.X).(*ast.Ident)
	return ok && pass.TypesInfo.ObjectOf(id) == obj
}

// errorIface is the error interface.
var errorIface = types.Universe.Lookup("error").Type().Underlying().(*types.Interface)

// isErrorType reports whether t is the error interface.
func isErrorType(t types.Type) bool {
	return types.Identical(t, types.Universe.Lookup("error").Type())
}

// errNotNil reports whether cond is err != nil for the error variable obj.
func errNotNil(pass *analysis.Pass, cond ast.Expr, obj types.Object) bool {
	b, ok := ast.Unparen(cond).(*ast.BinaryExpr)
	if !ok || b.Op != token.NEQ {
		return false
	}
	id, ok := ast.Unparen(b.X).(*ast.Ident)
	return ok && pass.TypesInfo.ObjectOf(id) == obj && isNil(pass, b.Y)
}

// isNil reports whether e is the predeclared nil.
func isNil(pass *analysis.Pass, e ast.Expr) bool {
	id, ok := ast.Unparen(e).(*ast.Ident)
	if !ok {
		return false
	}
	_, isNil := pass.TypesInfo.ObjectOf(id).(*types.Nil)
	return isNil
}

// tolerates reports whether an error branch carries on without the tool:
// every return in it gives nil for its error results (a bare return only
// in a function without error results), and it does not end the process.
func tolerates(pass *analysis.Pass, body *ast.BlockStmt, fnType *ast.FuncType) bool {
	errResults := false
	if fnType.Results != nil {
		for _, f := range fnType.Results.List {
			if tv, ok := pass.TypesInfo.Types[f.Type]; ok && isErrorType(tv.Type) {
				errResults = true
			}
		}
	}
	ok := true
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.ReturnStmt:
			if len(n.Results) == 0 {
				ok = ok && !errResults
			}
			for _, r := range n.Results {
				if tv, found := pass.TypesInfo.Types[r]; found && !isNil(pass, r) && types.Implements(tv.Type, errorIface) {
					ok = false
				}
			}
		case *ast.CallExpr:
			if fn, isFn := typeutil.Callee(pass.TypesInfo, n).(*types.Func); isFn && isExit(fn) {
				ok = false
			}
			if b, isB := typeutil.Callee(pass.TypesInfo, n).(*types.Builtin); isB && b.Name() == "panic" {
				ok = false
			}
		}
		return ok
	})
	return ok
}

// goosOther reports whether cond holds only on systems other than Linux:
// runtime.GOOS == "darwin", runtime.GOOS != "linux", or a conjunction
// with such a term.
func goosOther(pass *analysis.Pass, cond ast.Expr) bool {
	b, ok := ast.Unparen(cond).(*ast.BinaryExpr)
	if !ok {
		return false
	}
	if b.Op == token.LAND {
		return goosOther(pass, b.X) || goosOther(pass, b.Y)
	}
	if b.Op != token.EQL && b.Op != token.NEQ {
		return false
	}
	x, y := b.X, b.Y
	if !isGOOS(pass, x) {
		x, y = y, x
	}
	v, ok := constString(pass, y)
	if !isGOOS(pass, x) || !ok {
		return false
	}
	if b.Op == token.EQL {
		return v != "linux"
	}
	return v == "linux"
}

// isGOOS reports whether e is runtime.GOOS.
func isGOOS(pass *analysis.Pass, e ast.Expr) bool {
	sel, ok := ast.Unparen(e).(*ast.SelectorExpr)
	if !ok {
		return false
	}
	c, ok := pass.TypesInfo.Uses[sel.Sel].(*types.Const)
	return ok && c.Pkg() != nil && c.Pkg().Path() == "runtime" && c.Name() == "GOOS"
}
