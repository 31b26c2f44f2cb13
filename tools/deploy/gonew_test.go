package deploy

import (
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/mod/semver"
)

// modulePath reads the module path from go.mod.
func modulePath(t *testing.T) string {
	t.Helper()
	for _, l := range strings.Split(readFile(t, "go.mod"), "\n") {
		if m, ok := strings.CutPrefix(l, "module "); ok {
			return strings.TrimSpace(m)
		}
	}
	t.Fatal("go.mod has no module line")
	return ""
}

// linterModule is the twelvefactor linter's module path: the nested
// module twelvefactor/, which services run by path at a pinned version.
func linterModule(t *testing.T) string {
	t.Helper()
	return modulePath(t) + "/twelvefactor"
}

// linterVersion returns the version of the linter that the Makefile's
// lint target runs, checking that CI and .ci/run pin the same one.
func linterVersion(t *testing.T) string {
	t.Helper()
	pin := regexp.MustCompile(`go run ` + regexp.QuoteMeta(linterModule(t)) + `@(v[0-9][^ ]*) `)
	var version string
	for _, name := range []string{"Makefile", workflow, ".ci/run"} {
		m := pin.FindStringSubmatch(readFile(t, name))
		switch {
		case m == nil:
			t.Fatalf("%s does not run %s@VERSION", name, linterModule(t))
		case version == "":
			version = m[1]
		case m[1] != version:
			t.Fatalf("%s runs the linter at %s, the Makefile at %s: pin one version", name, m[1], version)
		}
	}
	return version
}

func TestLinterPinnedOnce(t *testing.T) {
	if v := linterVersion(t); !semver.IsValid(v) {
		t.Errorf("linter version %s is not a semantic version", v)
	}
}

// trackedFiles lists the files in git with their modes: the root
// module's only, as a module zip holds them. Files under a directory with
// a go.mod of its own (the linter, the template's tooling) are left out.
func trackedFiles(t *testing.T) map[string]string {
	t.Helper()
	out, err := exec.Command("git", "-C", root, "ls-files", "--stage").Output()
	if err != nil {
		t.Skipf("git ls-files: %v (the test needs a git checkout)", err)
	}
	all := map[string]string{}
	var nested []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		meta, name, _ := strings.Cut(l, "\t")
		all[name] = strings.Fields(meta)[0]
		if dir, ok := strings.CutSuffix(name, "/go.mod"); ok {
			nested = append(nested, dir+"/")
		}
	}
	files := map[string]string{}
	for name, mode := range all {
		if !slices.ContainsFunc(nested, func(d string) bool { return strings.HasPrefix(name, d) }) {
			files[name] = mode
		}
	}
	return files
}

// TestTemplateHygiene checks what gonew needs of a template: it rewrites
// only go.mod's module line and Go import paths, and a module zip drops
// nested modules (checked here: only the root module's files). So no Go
// file at the root, no module path in any other file (but the README's
// section for the template repository, which the rename step deletes, and
// the lines that name the linter by its module path and pinned version),
// and no script that needs its executable bit, which module zips do not
// keep.
func TestTemplateHygiene(t *testing.T) {
	mod := modulePath(t)
	pinnedLinter := linterModule(t) + "@" + linterVersion(t)
	templateOnly := templateSectionLines(t)
	for name, mode := range trackedFiles(t) {
		if !strings.Contains(name, "/") && strings.HasSuffix(name, ".go") {
			t.Errorf("%s: a Go file at the root is not rewritten as a package of the new module; move it under cmd/ or internal/", name)
		}
		if mode == "100755" {
			t.Errorf("%s is executable; module zips drop the bit: run it as bash %s", name, name)
		}
		if strings.HasSuffix(name, ".go") || name == "go.mod" || name == "go.sum" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			continue // deleted in the working tree
		}
		for i, line := range strings.Split(string(b), "\n") {
			if !strings.Contains(line, mod) {
				continue
			}
			if name == "README.md" && templateOnly[i] {
				continue
			}
			if strings.Contains(line, pinnedLinter) {
				continue // the linter by module path, as a service runs it
			}
			t.Errorf("%s:%d names the module path %s, which gonew does not rewrite: derive it (go list -m) or use a relative path", name, i+1, mod)
		}
	}
}

// TestGonewProject does what gonew does to the template (copy the module,
// rewrite the module line and the import paths of Go files, nothing
// else) and builds and vets the result: proof that no other file needs
// the old path.
func TestGonewProject(t *testing.T) {
	const newMod = "example.com/acme/orders"
	mod := modulePath(t)
	dir := t.TempDir()
	for name := range trackedFiles(t) {
		if _, err := os.Lstat(filepath.Join(root, name)); err != nil {
			continue
		}
		copyFile(t, filepath.Join(root, name), filepath.Join(dir, name))
	}

	gomod := filepath.Join(dir, "go.mod")
	b, err := os.ReadFile(gomod)
	if err != nil {
		t.Fatal(err)
	}
	b = []byte(strings.Replace(string(b), "module "+mod+"\n", "module "+newMod+"\n", 1))
	if err := os.WriteFile(gomod, b, 0o644); err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		return rewriteImports(path, mod, newMod)
	})
	if err != nil {
		t.Fatal(err)
	}

	if got := strings.TrimSpace(goCmd(t, dir, nil, "list", "-m")); got != newMod {
		t.Fatalf("go list -m in the new project = %s, want %s", got, newMod)
	}
	goCmd(t, dir, nil, "build", "./...")
	goCmd(t, dir, nil, "vet", "./...")

	renameProject(t, dir, nil)
	checkNoTemplateName(t, dir)
	goCmd(t, dir, nil, "build", "./...")
}

// templateSection is the README's section for the template repository:
// how to start a project from it. The rename step deletes it.
const (
	templateStart = "<!-- template -->"
	templateEnd   = "<!-- end of template -->"
)

// templateSectionLines returns the 0-based numbers of the README's lines
// from templateStart to templateEnd, both included.
func templateSectionLines(t *testing.T) map[int]bool {
	t.Helper()
	lines := map[int]bool{}
	in := false
	for i, l := range strings.Split(readFile(t, "README.md"), "\n") {
		if l == templateStart {
			in = true
		}
		if in {
			lines[i] = true
		}
		if l == templateEnd {
			in = false
		}
	}
	if len(lines) == 0 || in {
		t.Fatalf("README has no %s ... %s section", templateStart, templateEnd)
	}
	return lines
}

// renameStep returns the README's rename step: the sh block of its
// template section that names the template to rename it.
func renameStep(t *testing.T) string {
	t.Helper()
	readme := readFile(t, "README.md")
	// The markers on lines of their own: the rename step names them too.
	start, end := strings.Index(readme, "\n"+templateStart+"\n"), strings.Index(readme, "\n"+templateEnd+"\n")
	if start < 0 || end < start {
		t.Fatalf("README has no %s ... %s section", templateStart, templateEnd)
	}
	section := readme[start:end]
	for _, block := range shBlocks(section) {
		if strings.Contains(block, "s/dozen/") {
			return block
		}
	}
	t.Fatal("the README's template section has no rename step (an sh block with s/dozen/)")
	return ""
}

// renameProject runs the README's rename step in dir, as a user would.
func renameProject(t *testing.T, dir string, env []string) {
	t.Helper()
	run(t, dir, env, "bash", "-euo", "pipefail", "-c", renameStep(t))
}

// checkNoTemplateName fails unless every line of dir (outside .git) that
// says "dozen", in any case, names the linter by its pinned module path,
// and unless the README's template section is gone.
func checkNoTemplateName(t *testing.T, dir string) {
	t.Helper()
	pinnedLinter := linterModule(t) + "@" + linterVersion(t)
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "README.md" && strings.Contains(string(b), "\n"+templateStart+"\n") {
			t.Errorf("README.md still has its template section after the rename step")
		}
		for i, line := range strings.Split(string(b), "\n") {
			if strings.Contains(strings.ToLower(line), "dozen") && !strings.Contains(line, pinnedLinter) {
				t.Errorf("%s:%d still says dozen after the rename step: %s", rel, i+1, strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// rewriteImports changes the import paths of one Go file from the old
// module to the new one, as gonew does, leaving all other text alone.
func rewriteImports(path, oldMod, newMod string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, src, parser.ImportsOnly)
	if err != nil {
		return err
	}
	var out strings.Builder
	last := 0
	for _, imp := range f.Imports {
		p, err := strconv.Unquote(imp.Path.Value)
		if err != nil {
			return err
		}
		rest, ok := strings.CutPrefix(p, oldMod)
		if !ok || (rest != "" && !strings.HasPrefix(rest, "/")) {
			continue
		}
		start := fset.Position(imp.Path.Pos()).Offset
		end := fset.Position(imp.Path.End()).Offset
		out.Write(src[last:start])
		out.WriteString(strconv.Quote(newMod + rest))
		last = end
	}
	out.Write(src[last:])
	return os.WriteFile(path, []byte(out.String()), 0o644)
}
