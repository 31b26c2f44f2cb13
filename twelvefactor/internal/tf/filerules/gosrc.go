package filerules

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path"
	"reflect"
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
	// env:"NAME") and os.Getenv/os.LookupEnv with a constant name.
	Env []envVar
	// MainDirs are the directories holding a main package.
	MainDirs map[string]bool
	// Listens is set when the code calls a ListenAndServe or net.Listen.
	Listens bool
	// Embeds lists the //go:embed patterns, by directory.
	Embeds map[string][]string
	// Derived are the names envconfig derives from untagged fields of
	// structs that use envconfig tags (Port → PORT, DatabaseURL →
	// DATABASE_URL with split_words), without the prefix Process may add.
	// They only excuse variables set in files; the code is not required
	// to list them.
	Derived map[string]bool
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

// parseGo parses the non-test, non-generated Go files of the repository.
func parseGo(repo *tf.Repo) *goSource {
	s := &goSource{MainDirs: make(map[string]bool), Embeds: make(map[string][]string), Derived: make(map[string]bool)}
	fset := token.NewFileSet()
	for _, rel := range repo.Match(func(rel string) bool {
		return strings.HasSuffix(rel, ".go") && !strings.HasSuffix(rel, "_test.go")
	}) {
		f, err := parser.ParseFile(fset, rel, repo.Read(rel), parser.ParseComments|parser.SkipObjectResolution)
		if err != nil || ast.IsGenerated(f) || tf.OutsideService(rel) || importsTesting(f) {
			continue // not the service's code: generated, tests, examples
		}
		if f.Name.Name == "main" {
			s.MainDirs[path.Dir(rel)] = true
		}
		for _, cg := range f.Comments {
			for _, c := range cg.List {
				if rest, ok := strings.CutPrefix(c.Text, "//go:embed "); ok {
					s.Embeds[path.Dir(rel)] = append(s.Embeds[path.Dir(rel)], strings.Fields(rest)...)
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
			case *ast.CallExpr:
				sel, ok := n.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				switch sel.Sel.Name {
				case "ListenAndServe", "ListenAndServeTLS", "Listen":
					s.Listens = true
				case "Getenv", "LookupEnv":
					if id, ok := sel.X.(*ast.Ident); !ok || id.Name != "os" || len(n.Args) != 1 {
						return true
					}
					if lit, ok := n.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						if name, err := strconv.Unquote(lit.Value); err == nil {
							s.Env = append(s.Env, envVar{Name: name, File: rel, Line: fset.Position(lit.Pos()).Line})
						}
					}
				}
			}
			return true
		})
	}
	return s
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

// deriveNames records the names envconfig gives the untagged fields of a
// struct that has envconfig tags.
func (s *goSource) deriveNames(st *ast.StructType) {
	uses := false
	for _, f := range st.Fields.List {
		if f.Tag != nil && (strings.Contains(f.Tag.Value, "envconfig:") || strings.Contains(f.Tag.Value, "split_words:") || strings.Contains(f.Tag.Value, "default:")) {
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
		split := f.Tag != nil && strings.Contains(f.Tag.Value, `split_words:"true"`)
		for _, n := range f.Names {
			if n.IsExported() {
				s.Derived[strings.ToUpper(n.Name)] = true
				if split {
					s.Derived[upperSnake(n.Name)] = true
				}
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
