package analyzers

import (
	"go/ast"
	"go/token"
	"go/types"
	"regexp"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/types/typeutil"
)

// configElem matches the import path elements of config packages:
// config, internal/config/serverconfig, conf, settings, envcfg.
var configElem = regexp.MustCompile(`(?i)^(.*conf|.*config|.*configs|.*cfg|config.*|settings?|env|environment)$`)

// isConfigPackage reports whether an import path names a config package:
// one of its elements below the module path says config, or it ends in
// one of the extra suffixes.
func isConfigPackage(path, module string, extra []string) bool {
	inModule := path
	if module != "" && (path == module || strings.HasPrefix(path, module+"/")) {
		inModule = strings.TrimPrefix(path, module)
	}
	for _, elem := range strings.Split(inModule, "/") {
		if configElem.MatchString(elem) {
			return true
		}
	}
	for _, suf := range extra {
		if pathHasSuffix(path, strings.Trim(suf, "/")) {
			return true
		}
	}
	return false
}

// EnvRead returns the III1 analyzer: the environment is read only in the
// config package, a package with config in its import path or one of the
// extra suffixes. os.Environ is not reported: it hands the whole
// environment on (to a child process), it does not read a setting.
func EnvRead(configPackages []string) *analysis.Analyzer {
	return &analysis.Analyzer{
		Name: "envread",
		Doc:  "III1: report environment reads outside the config package",
		Run: func(pass *analysis.Pass) (any, error) {
			module := ""
			if pass.Module != nil {
				module = pass.Module.Path
			}
			if isConfigPackage(pass.Pkg.Path(), module, configPackages) {
				return nil, nil
			}
			calls(pass, func(call *ast.CallExpr, fn *types.Func, _ *ast.FuncDecl) {
				switch {
				case isFunc(fn, "os", "Getenv", "LookupEnv", "ExpandEnv"),
					isFunc(fn, "syscall", "Getenv"),
					isFunc(fn, "github.com/kelseyhightower/envconfig", "Process", "MustProcess"):
					report(pass, "III1", call, "%s.%s reads the environment outside the config package", fn.Pkg().Name(), fn.Name())
				}
			})
			return nil, nil
		},
	}
}

// deployNames are the names of deploys that code should not know.
var deployNames = map[string]bool{
	"production": true, "prod": true, "staging": true, "stage": true,
	"development": true, "dev": true, "qa": true, "uat": true,
}

// deployVar matches names of variables that hold a deploy name.
var deployVar = regexp.MustCompile(`(?i)env|stage|deploy|tier`)

// promptImports are libraries that ask the user questions: a setup wizard
// that asks which environment to write into a config file branches on the
// answer, not on the deploy it runs in.
var promptImports = []string{"github.com/AlecAivazis/survey", "github.com/manifoldco/promptui", "github.com/charmbracelet/huh", "github.com/erikgeiser/promptkit", "github.com/c-bata/go-prompt"}

// DeployBranch is the I2 analyzer: code that compares a deploy-name
// variable with a deploy name. A setting about something else that takes
// deploy names as values (LOG_MODE=development choosing a log format) is
// not the deploy name, nor is an answer read from the terminal (a setup
// wizard asking which environment to configure).
var DeployBranch = &analysis.Analyzer{
	Name: "deploybranch",
	Doc:  "I2: report branches on the deploy name (env == \"production\")",
	Run: func(pass *analysis.Pass) (any, error) {
		for _, imp := range pass.Pkg.Imports() {
			for _, p := range promptImports {
				if strings.HasPrefix(imp.Path(), p) {
					return nil, nil
				}
			}
		}
		interactive := make(map[*ast.FuncDecl]bool)
		visit(pass, func(n ast.Node, decl *ast.FuncDecl, _ *ast.File) {
			if decl != nil && !interactive[decl] && readsTerminal(pass, n) {
				interactive[decl] = true
			}
		})
		// check reports x compared with a deploy name when x's name says
		// it holds one.
		check := func(at ast.Node, x, lit ast.Expr, op token.Token) {
			s, ok := constString(pass, lit)
			if !ok || !deployNames[strings.ToLower(s)] || !namesDeploy(x) {
				return
			}
			report(pass, "I2", at, "the code branches on %s %s %q; deploys should differ only in config", types.ExprString(x), op, s)
		}
		// logged holds the comparisons of if conditions whose branches
		// only log: they change no behaviour.
		logged := make(map[ast.Node]bool)
		visit(pass, func(n ast.Node, decl *ast.FuncDecl, _ *ast.File) {
			if interactive[decl] {
				return
			}
			switch n := n.(type) {
			case *ast.IfStmt:
				if logOnlyIf(pass, n) {
					ast.Inspect(n.Cond, func(m ast.Node) bool {
						logged[m] = true
						return true
					})
				}
			case *ast.BinaryExpr:
				if logged[n] {
					return
				}
				if n.Op == token.EQL || n.Op == token.NEQ {
					check(n, n.X, n.Y, n.Op)
					check(n, n.Y, n.X, n.Op)
				}
			case *ast.SwitchStmt:
				if n.Tag == nil || logOnlySwitch(pass, n) {
					return
				}
				for _, s := range n.Body.List {
					for _, e := range s.(*ast.CaseClause).List {
						check(e, n.Tag, e, token.EQL)
					}
				}
			}
		})
		return nil, nil
	},
}

// logOnlyIf reports whether every branch of an if statement (its body,
// its else and the branches of an else if) only logs.
func logOnlyIf(pass *analysis.Pass, n *ast.IfStmt) bool {
	if !logOnly(pass, n.Body.List) {
		return false
	}
	switch e := n.Else.(type) {
	case nil:
		return true
	case *ast.BlockStmt:
		return logOnly(pass, e.List)
	case *ast.IfStmt:
		return logOnlyIf(pass, e)
	}
	return false
}

// logOnlySwitch reports whether every clause of a switch only logs.
func logOnlySwitch(pass *analysis.Pass, n *ast.SwitchStmt) bool {
	for _, s := range n.Body.List {
		if !logOnly(pass, s.(*ast.CaseClause).Body) {
			return false
		}
	}
	return true
}

// logOnly reports whether statements only log or print.
func logOnly(pass *analysis.Pass, stmts []ast.Stmt) bool {
	for _, s := range stmts {
		switch s := s.(type) {
		case *ast.EmptyStmt:
		case *ast.BlockStmt:
			if !logOnly(pass, s.List) {
				return false
			}
		case *ast.ExprStmt:
			call, ok := s.X.(*ast.CallExpr)
			if !ok || !logCall(pass, call) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// logPackages are the packages of loggers: the standard library's and
// the common structured loggers.
var logPackages = map[string]bool{
	"log": true, "log/slog": true, "go.uber.org/zap": true, "go.uber.org/zap/zapcore": true,
	"github.com/rs/zerolog": true, "github.com/rs/zerolog/log": true, "github.com/sirupsen/logrus": true,
	"k8s.io/klog": true, "k8s.io/klog/v2": true, "github.com/golang/glog": true,
	"github.com/charmbracelet/log": true, "github.com/hashicorp/go-hclog": true,
}

// logMethods are the names of logging methods, for loggers of the
// program's own types (a Logger interface).
var logMethods = regexp.MustCompile(`^(Print|Debug|Info|Warn|Warning|Error|Trace|Log|Notice)(f|ln|w|Context)?$`)

// exits matches the logging functions that stop the program.
var exits = regexp.MustCompile(`^(Fatal|Panic|DPanic|Exit)`)

// logCall reports whether a call only logs or prints: a function or
// method of a logger package (log.Println, slog.Info, zap's and logrus's
// loggers, zerolog's log.Info().Msg chains), fmt.Print* or fmt.Fprint* to
// os.Stdout or os.Stderr, or a logging method of a logger type. Calls
// that stop the program (log.Fatal, Panic) change what it does.
func logCall(pass *analysis.Pass, call *ast.CallExpr) bool {
	fn, ok := typeutil.Callee(pass.TypesInfo, call).(*types.Func)
	if !ok || fn.Pkg() == nil || exits.MatchString(fn.Name()) {
		return false
	}
	switch {
	case isFunc(fn, "fmt", "Print", "Printf", "Println"):
		return true
	case isFunc(fn, "fmt", "Fprint", "Fprintf", "Fprintln"):
		if len(call.Args) == 0 {
			return false
		}
		sel, ok := ast.Unparen(call.Args[0]).(*ast.SelectorExpr)
		if !ok {
			return false
		}
		v, ok := pass.TypesInfo.Uses[sel.Sel].(*types.Var)
		return ok && v.Pkg() != nil && v.Pkg().Path() == "os" && (v.Name() == "Stdout" || v.Name() == "Stderr")
	case logPackages[fn.Pkg().Path()]:
	case fn.Signature().Recv() != nil && logMethods.MatchString(fn.Name()) && strings.Contains(strings.ToLower(recvType(fn)+types.TypeString(fn.Signature().Recv().Type(), nil)), "log"):
	default:
		return false
	}
	// A chain (log.Info().Str(k, v).Msg(m)) logs when each call in it does.
	if sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr); ok {
		if inner, ok := ast.Unparen(sel.X).(*ast.CallExpr); ok {
			return logCall(pass, inner)
		}
	}
	return true
}

// readsTerminal reports whether a node reads the user's answers: os.Stdin,
// fmt.Scan and its kind.
func readsTerminal(pass *analysis.Pass, n ast.Node) bool {
	switch n := n.(type) {
	case *ast.SelectorExpr:
		v, ok := pass.TypesInfo.Uses[n.Sel].(*types.Var)
		return ok && v.Pkg() != nil && v.Pkg().Path() == "os" && v.Name() == "Stdin"
	case *ast.CallExpr:
		fn, ok := calleeFunc(pass, n)
		return ok && isFunc(fn, "fmt", "Scan", "Scanln", "Scanf")
	}
	return false
}

// notDeploy matches the names of settings about something other than
// the deploy that take deploy names as values: a log mode or format.
var notDeploy = regexp.MustCompile(`(?i)log`)

// namesDeploy reports whether an expression's identifiers or string
// literals say it holds a deploy name: env, cfg.Environment,
// os.Getenv("APP_STAGE"), strings.ToLower(cfg.Tier). The names of the
// functions that read the environment (Getenv) say nothing about the
// variable read; a name about logging (LOG_MODE, cfg.LogEnv) is a log
// setting.
func namesDeploy(e ast.Expr) bool {
	found, other := false, false
	ast.Inspect(e, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			// getenv("LOG_MODE"), os.Getenv("APP_STAGE"): the name of
			// the variable read says what it holds, not the reader's.
			if len(n.Args) > 0 {
				if lit, ok := n.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					for _, a := range n.Args {
						ast.Inspect(a, func(m ast.Node) bool {
							if l, ok := m.(*ast.BasicLit); ok && l.Kind == token.STRING {
								found = found || deployVar.MatchString(l.Value)
								other = other || notDeploy.MatchString(l.Value)
							}
							return true
						})
					}
					return false
				}
			}
		case *ast.Ident:
			found = found || deployVar.MatchString(n.Name)
			other = other || notDeploy.MatchString(n.Name)
		case *ast.BasicLit:
			if n.Kind == token.STRING {
				found = found || deployVar.MatchString(n.Value)
				other = other || notDeploy.MatchString(n.Value)
			}
		}
		return true
	})
	return found && !other
}

// exprName returns the name an expression is known by: x, cfg.Env, Env().
func exprName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return e.Sel.Name
	case *ast.CallExpr:
		return exprName(e.Fun)
	case *ast.ParenExpr:
		return exprName(e.X)
	}
	return ""
}
