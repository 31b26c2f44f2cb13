package filerules

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	tf "github.com/dozen-go/dozen/twelvefactor/internal/tf"
)

// envVar is one environment variable the Go code reads.
type envVar struct {
	Name     string
	File     string
	Line     int
	Default  string
	Required bool // required and without a default
}

// goSource is what the file rules learn from the Go code by parsing it,
// without type checking, so that they work on code that does not compile.
type goSource struct {
	// Env lists the variables read through struct tags (envconfig:"NAME",
	// env:"NAME") and os.Getenv/os.LookupEnv with a constant name. Once
	// the scope is known, only the service's reads are kept.
	Env []envVar
	// MainDirs are the directories holding a main package.
	MainDirs map[string]bool
	// Listens is set when the code calls a ListenAndServe or net.Listen.
	Listens bool
	// Embeds lists the //go:embed patterns, by directory.
	Embeds map[string][]string
	// Derived are the names config libraries derive from untagged fields
	// of structs that use config tags (Port → PORT, DatabaseURL →
	// DATABASE_URL, DisableTLS → DISABLE_TLS), without the prefixes that
	// nesting and the library add. They only excuse variables set in
	// files; the code is not required to list them.
	Derived map[string]bool
	// DynamicEnv are the directories whose code reads variables whose
	// names it computes (os.Getenv(key), viper's AutomaticEnv): what such
	// code reads is unknown, so no variable set in a file can be called
	// unread.
	DynamicEnv map[string]bool
	// Pkgs are the package directories with their imports and what they
	// do, for the scope.
	Pkgs map[string]*goPkg
	// Named are the environment-like names (PORT, DATABASE_URL) that the
	// code writes as a composite literal's key or element or a call's
	// argument: a map from variable names to options, EnvVars:
	// []string{"PORT"}. The code reads them through its option parser,
	// which the rules cannot follow; they only excuse a variable that
	// would otherwise be called unread.
	Named map[string]bool
}

// goPkg is what one package directory's files show.
type goPkg struct {
	Name    string
	Imports map[string]bool
	// Listens is set when the package opens a listener or starts a server.
	Listens bool
}

// env returns the variable with the name, if the code reads it.
func (s *goSource) env(name string) (envVar, bool) {
	for _, v := range s.Env {
		if v.Name == name {
			return v, true
		}
	}
	return envVar{}, false
}

// listenCalls are the calls that open a listener, by the import that makes
// the method name mean it ("" for any file).
var listenCalls = map[string][]string{
	"":                               {"ListenAndServe", "ListenAndServeTLS", "Listen", "Serve", "ServeTLS"},
	"github.com/gin-gonic/gin":       {"Run", "RunTLS", "RunUnix", "RunListener"},
	"github.com/labstack/echo/v4":    {"Start", "StartTLS", "StartAutoTLS", "StartServer", "StartH2CServer"},
	"github.com/labstack/echo":       {"Start", "StartTLS", "StartServer"},
	"golang.org/x/net/http2":         {"ServeConn"},
	"github.com/gofiber/fiber/v2":    {"Listen", "ListenTLS", "Listener"},
	"github.com/gofiber/fiber/v3":    {"Listen", "Listener"},
	"github.com/valyala/fasthttp":    {"ListenAndServe", "Serve"},
	"github.com/go-kratos/kratos/v2": {"Run"},
}

// parseGo parses the non-test, non-generated Go files of the repository.
func parseGo(repo *tf.Repo) *goSource {
	s := &goSource{MainDirs: make(map[string]bool), Embeds: make(map[string][]string), Derived: make(map[string]bool), Pkgs: make(map[string]*goPkg), DynamicEnv: make(map[string]bool), Named: make(map[string]bool)}
	fset := token.NewFileSet()
	for _, rel := range repo.Match(func(rel string) bool {
		return strings.HasSuffix(rel, ".go") && !strings.HasSuffix(rel, "_test.go")
	}) {
		f, err := parser.ParseFile(fset, rel, repo.Read(rel), parser.ParseComments|parser.SkipObjectResolution)
		if err != nil || ast.IsGenerated(f) || tf.OutsideService(rel) || importsTesting(f) {
			continue // not the service's code: generated, tests, examples
		}
		dir := path.Dir(rel)
		pkg := s.Pkgs[dir]
		if pkg == nil {
			pkg = &goPkg{Name: f.Name.Name, Imports: make(map[string]bool)}
			s.Pkgs[dir] = pkg
		}
		methods := make(map[string]bool)
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			pkg.Imports[p] = true
			for _, m := range listenCalls[p] {
				methods[m] = true
			}
		}
		for _, m := range listenCalls[""] {
			methods[m] = true
		}
		if f.Name.Name == "main" {
			s.MainDirs[dir] = true
		}
		for _, cg := range f.Comments {
			for _, c := range cg.List {
				if rest, ok := strings.CutPrefix(c.Text, "//go:embed "); ok {
					s.Embeds[dir] = append(s.Embeds[dir], strings.Fields(rest)...)
				}
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.Field:
				if n.Tag != nil {
					s.addTag(fset, rel, n.Tag)
				}
			case *ast.StructType:
				s.deriveNames(n)
			case *ast.CompositeLit:
				for _, el := range n.Elts {
					if kv, ok := el.(*ast.KeyValueExpr); ok {
						s.name(kv.Key)
						el = kv.Value
					}
					s.name(el)
				}
			case *ast.CallExpr:
				for _, a := range n.Args {
					s.name(a)
				}
				sel, ok := n.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if methods[sel.Sel.Name] {
					// Serve and Listen are common method names; on
					// their own they count only with an argument, as
					// net.Listen("tcp", addr) and srv.Serve(lis) have.
					if (sel.Sel.Name != "Serve" && sel.Sel.Name != "Listen") || len(n.Args) > 0 {
						pkg.Listens = true
					}
				}
				switch sel.Sel.Name {
				case "ListenAndServe", "ListenAndServeTLS", "Listen":
					s.Listens = true
				case "AutomaticEnv", "BindEnv", "SetEnvPrefix":
					s.DynamicEnv[dir] = true
				case "Getenv", "LookupEnv":
					if id, ok := sel.X.(*ast.Ident); !ok || id.Name != "os" || len(n.Args) != 1 {
						return true
					}
					if lit, ok := n.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						if name, err := strconv.Unquote(lit.Value); err == nil {
							s.Env = append(s.Env, envVar{Name: name, File: rel, Line: fset.Position(lit.Pos()).Line})
						}
					} else {
						s.DynamicEnv[dir] = true
					}
				}
			}
			return true
		})
	}
	return s
}

// envLike matches the names of environment variables.
var envLike = regexp.MustCompile(`^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$`)

// name records a string literal that looks like an environment variable's
// name.
func (s *goSource) name(e ast.Expr) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return
	}
	if v, err := strconv.Unquote(lit.Value); err == nil && envLike.MatchString(v) {
		s.Named[v] = true
	}
}

// addTag records the variable named by a struct tag.
func (s *goSource) addTag(fset *token.FileSet, rel string, lit *ast.BasicLit) {
	raw, err := strconv.Unquote(lit.Value)
	if err != nil {
		return
	}
	tag := reflect.StructTag(raw)
	v := envVar{File: rel, Line: fset.Position(lit.Pos()).Line}
	if name, ok := tag.Lookup("envconfig"); ok {
		v.Name = strings.Split(name, ",")[0]
		def, hasDef := tag.Lookup("default")
		v.Default = def
		v.Required = tag.Get("required") == "true" && !hasDef
	} else if spec, ok := tag.Lookup("env"); ok {
		// caarlos0/env and sethvargo/go-envconfig: env:"NAME,required".
		parts := strings.Split(spec, ",")
		v.Name = parts[0]
		def, hasDef := tag.Lookup("envDefault")
		v.Default = def
		for _, p := range parts[1:] {
			if p == "required" && !hasDef {
				v.Required = true
			}
			if d, ok := strings.CutPrefix(p, "default="); ok {
				v.Default, v.Required = d, false
			}
		}
	}
	if v.Name != "" && v.Name != "-" {
		s.Env = append(s.Env, v)
	}
}

// importsTesting reports whether a file imports "testing", as test helpers
// do.
func importsTesting(f *ast.File) bool {
	for _, imp := range f.Imports {
		if imp.Path.Value == `"testing"` {
			return true
		}
	}
	return false
}

// configTag matches the struct tags of config libraries: envconfig,
// caarlos0/env, ardanlabs/conf, viper's mapstructure and their defaults.
var configTag = regexp.MustCompile(`\b(envconfig|env|conf|default|envDefault|split_words|mapstructure|koanf):"`)

// deriveNames records the names config libraries give the fields of a
// struct that has config tags: envconfig and ardanlabs/conf derive a name
// from every untagged field (DisableTLS → DISABLE_TLS) and prefix it with
// the names of the structs it is nested in, which the suffix match in the
// env rules allows for.
func (s *goSource) deriveNames(st *ast.StructType) {
	uses := false
	for _, f := range st.Fields.List {
		if f.Tag != nil && configTag.MatchString(f.Tag.Value) {
			uses = true
		}
	}
	if !uses {
		return
	}
	for _, f := range st.Fields.List {
		if f.Tag != nil && strings.Contains(f.Tag.Value, "envconfig:") {
			continue
		}
		for _, n := range f.Names {
			if n.IsExported() {
				s.Derived[strings.ToUpper(n.Name)] = true
				s.Derived[upperSnake(n.Name)] = true
			}
		}
	}
}

// upperSnake turns DatabaseURL into DATABASE_URL, as envconfig's
// split_words does.
func upperSnake(name string) string {
	var b strings.Builder
	rs := []rune(name)
	for i, r := range rs {
		upper := unicode.IsUpper(r)
		if i > 0 && upper && (!unicode.IsUpper(rs[i-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1]))) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}
