package filerules

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"

	tf "github.com/dozen-go/dozen/twelvefactor/internal/tf"
)

// modInfo is what the rules need from go.mod.
type modInfo struct {
	// Path is the module path.
	Path string
	// Go is the go directive, e.g. "1.26.0"; GoLine its line.
	Go     string
	GoLine int
	// HerokuGo is the +heroku goVersion comment, e.g. "go1.26"; HerokuGoLine
	// its line.
	HerokuGo     string
	HerokuGoLine int
	// HerokuInstall are the package patterns of the +heroku install
	// comment; nil when there is none.
	HerokuInstall []string
}

// checkGoMod runs I1, I3, II1 and II2. I1 reports a repository without a
// go.mod, and as info a service built with nested modules (a replace into
// a subdirectory), which gonew's module zip leaves out of a template;
// nested modules the root does not use (tools, a linter, samples) are
// codebases of their own. It returns nil when there is no
// root go.mod.
func checkGoMod(repo *tf.Repo, c *tf.Collector) *modInfo {
	if !underGit(repo.Root) {
		c.Addf("I3", "", 0, "no .git in the repository root or a directory above it")
	}
	nested := repo.Match(func(rel string) bool { return path.Base(rel) == "go.mod" && rel != "go.mod" })
	data := repo.Read("go.mod")
	if data == nil {
		if len(nested) == 0 {
			c.Addf("I1", "", 0, "no go.mod in the repository")
		}
		// Without a root module each nested module is a codebase of its
		// own, as in a repository of samples.
		c.NotApplicable("no go.mod at the root", "II1", "II2")
		return nil
	}
	mf, err := modfile.Parse("go.mod", data, nil)
	if err != nil {
		c.Addf("II1", "go.mod", 0, "go.mod does not parse: %v", err)
		return nil
	}
	info := &modInfo{}
	if mf.Module != nil {
		info.Path = mf.Module.Mod.Path
	}
	if mf.Go != nil {
		info.Go, info.GoLine = mf.Go.Version, mf.Go.Syntax.Start.Line
	}
	for i, line := range lines(data) {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "//"))
		if len(f) >= 3 && f[0] == "+heroku" && f[1] == "goVersion" {
			info.HerokuGo, info.HerokuGoLine = f[2], i+1
		}
		if len(f) >= 3 && f[0] == "+heroku" && f[1] == "install" {
			info.HerokuInstall = append(info.HerokuInstall, f[2:]...)
		}
	}
	for _, r := range mf.Replace {
		// A directory inside the repository builds wherever the
		// repository is cloned, from the same commit (I1 info); one
		// outside it builds only on this machine (II2). A nested module the root does not build with,
		// such as tools/ or a linter, is a codebase of its own.
		p := r.New.Path
		if inner := path.Clean(p); r.New.Version == "" && !filepath.IsAbs(p) && inner != "." && inner != ".." && !strings.HasPrefix(inner, "../") && repo.Has(path.Join(inner, "go.mod")) {
			// The nested module is built from the same commit, so the
			// repository is still one codebase; only a template copied
			// with gonew, whose module zip leaves nested modules out,
			// loses it. That is advice.
			c.Add(tf.Finding{Rule: "I1", File: "go.mod", Line: r.Syntax.Start.Line, Hardening: true,
				Message: fmt.Sprintf("the service builds with the nested module %s (replace %s => %s) (info: one commit still builds it, so factor I holds; a template copied with gonew loses it, as gonew's module zip leaves nested modules out)", inner, r.Old.Path, p)})
		}
		if r.New.Version == "" && (filepath.IsAbs(p) || path.Clean(p) == ".." || strings.HasPrefix(path.Clean(p), "../")) {
			c.Addf("II2", "go.mod", r.Syntax.Start.Line, "replace %s => %s points at a directory outside the repository", r.Old.Path, p)
		}
	}
	sum := repo.Read("go.sum")
	switch {
	case len(mf.Require) > 0 && sum == nil:
		c.Addf("II1", "go.mod", 1, "go.mod requires modules but there is no go.sum")
	case sum != nil:
		have := make(map[string]bool)
		for _, l := range lines(sum) {
			if f := strings.Fields(l); len(f) == 3 {
				have[f[0]+" "+strings.TrimSuffix(f[1], "/go.mod")] = true
			}
		}
		for _, r := range mf.Require {
			mod, ok := replaced(mf, r.Mod)
			if ok && !have[mod.Path+" "+mod.Version] {
				c.Addf("II1", "go.mod", r.Syntax.Start.Line, "go.sum has no checksum for %s %s", mod.Path, mod.Version)
			}
		}
	}
	return info
}

// underGit reports whether dir or a directory above it holds .git: the
// repository checked may be a directory of a larger one.
func underGit(dir string) bool {
	for {
		if _, err := os.Lstat(filepath.Join(dir, ".git")); err == nil {
			return true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return false
		}
		dir = parent
	}
}

// replaced returns the module version that the build really uses for a
// requirement, after replace directives; false for a directory, which has
// no checksum.
func replaced(mf *modfile.File, m module.Version) (module.Version, bool) {
	for _, r := range mf.Replace {
		if r.Old.Path == m.Path && (r.Old.Version == "" || r.Old.Version == m.Version) {
			return r.New, r.New.Version != ""
		}
	}
	return m, true
}
