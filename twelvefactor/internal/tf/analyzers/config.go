package analyzers

import (
	"go/ast"
	"go/token"
	"go/types"
	"regexp"
	"strings"

	"golang.org/x/tools/go/analysis"
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

// DeployBranch is the I2 analyzer: code that compares a deploy-name
// variable with a deploy name.
var DeployBranch = &analysis.Analyzer{
	Name: "deploybranch",
	Doc:  "I2: report branches on the deploy name (env == \"production\")",
	Run: func(pass *analysis.Pass) (any, error) {
		// check reports x compared with a deploy name when x's name says
		// it holds one.
		check := func(at ast.Node, x, lit ast.Expr, op token.Token) {
			s, ok := constString(pass, lit)
			if !ok || !deployNames[strings.ToLower(s)] || !namesDeploy(x) {
				return
			}
			report(pass, "I2", at, "the code branches on %s %s %q; deploys should differ only in config", types.ExprString(x), op, s)
		}
		visit(pass, func(n ast.Node, _ *ast.FuncDecl, _ *ast.File) {
			switch n := n.(type) {
			case *ast.BinaryExpr:
				if n.Op == token.EQL || n.Op == token.NEQ {
					check(n, n.X, n.Y, n.Op)
					check(n, n.Y, n.X, n.Op)
				}
			case *ast.SwitchStmt:
				if n.Tag == nil {
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

// namesDeploy reports whether an expression's identifiers or string
// literals say it holds a deploy name: env, cfg.Environment,
// os.Getenv("APP_STAGE"), strings.ToLower(cfg.Tier).
func namesDeploy(e ast.Expr) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Ident:
			found = found || deployVar.MatchString(n.Name)
		case *ast.BasicLit:
			found = found || (n.Kind == token.STRING && deployVar.MatchString(n.Value))
		}
		return !found
	})
	return found
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
