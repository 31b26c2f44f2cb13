package filerules

import (
	"path"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/mod/modfile"

	tf "github.com/dozen-go/dozen/twelvefactor/internal/tf"
)

// Scope is what the repository deploys, the part that the service rules
// judge: the main packages that serve (open a listener) and that a
// Dockerfile, Procfile, compose file or manifest builds or runs, plus the
// Procfile's process types, and every package of the repository they
// import. Tests, dev tools, generators and command-line tools are left out.
type Scope struct {
	// Mains are the directories of the service's main packages.
	Mains []string
	// Others are the directories of the main packages left out: tools,
	// generators and command-line programs that do not serve.
	Others []string
	// Dirs are the directories of the service's packages.
	Dirs map[string]bool
	// All is set when the code has no main package at all (a library):
	// every package is then judged as service code.
	All bool
	// Modules are the directories that hold a go.mod, "." first when the
	// root has one.
	Modules []Module
	// Tags are the build tags the Dockerfiles build with (-tags).
	Tags []string
	// Provided reports whether the service's images install a system
	// tool, which the code may then run (II3).
	Provided func(tool string) bool

	// closures are the repository packages each main package imports,
	// itself included.
	closures map[string]map[string]bool
	// unconfirmed are the service's main packages that no deploy file
	// names, chosen only because they serve while the service could not
	// be told apart from them.
	unconfirmed map[string]bool
}

// Unconfirmed returns the main packages judged as the service that no
// deploy file names, while several programs serve or the deploy files
// name other programs: they may be tools that serve a local UI.
func (s *Scope) Unconfirmed() []string {
	if s.All {
		return nil
	}
	var out []string
	for _, d := range s.Mains {
		if s.unconfirmed[d] {
			out = append(out, d)
		}
	}
	return out
}

// OnlyUnconfirmed reports whether the package in dir belongs only to
// unconfirmed programs, so that its findings are advice.
func (s *Scope) OnlyUnconfirmed(dir string) bool {
	if s.All || len(s.unconfirmed) == 0 || !s.Dirs[dir] {
		return false
	}
	for _, d := range s.Mains {
		if !s.unconfirmed[d] && s.closures[d][dir] {
			return false
		}
	}
	return true
}

// Choose makes the main packages in dirs the service, as a config file
// names them; "..." judges every package as service code.
func (s *Scope) Choose(dirs []string) {
	if slices.Contains(dirs, "...") {
		s.All = true
		return
	}
	s.Mains, s.Others, s.Dirs, s.unconfirmed = nil, nil, make(map[string]bool), nil
	for d, cl := range s.closures {
		if !slices.Contains(dirs, d) {
			s.Others = append(s.Others, d)
			continue
		}
		s.Mains = append(s.Mains, d)
		for dep := range cl {
			s.Dirs[dep] = true
		}
	}
	slices.Sort(s.Mains)
	slices.Sort(s.Others)
}

// Module is one go.mod of the repository.
type Module struct {
	Dir, Path string
	// Tooling is set for a module that replaces an enclosing module of
	// the repository with a relative path (tools/ with => ../): the
	// repository's own tooling, not a service.
	Tooling bool
}

// Has reports whether the package in dir is service code.
func (s *Scope) Has(dir string) bool { return s.All || s.Dirs[dir] }

// InModule reports whether any service package is in the module (and not
// in a module nested in it).
func (s *Scope) InModule(m Module) bool {
	for d := range s.Dirs {
		if in, ok := moduleOf(s.Modules, d); ok && in.Dir == m.Dir {
			return true
		}
	}
	return false
}

// modules returns the repository's go.mod files, outside test and example
// directories.
func modules(repo *tf.Repo) []Module {
	var out []Module
	for _, f := range repo.Match(func(rel string) bool { return path.Base(rel) == "go.mod" && !tf.OutsideService(rel) }) {
		// Parse, not ParseLax: the replace directives matter here.
		mf, err := modfile.Parse(f, repo.Read(f), nil)
		if err != nil || mf.Module == nil {
			continue
		}
		m := Module{Dir: path.Dir(f), Path: mf.Module.Mod.Path}
		for _, r := range mf.Replace {
			if r.New.Version != "" {
				continue
			}
			target := path.Clean(path.Join(m.Dir, r.New.Path))
			if target == "." || (target != m.Dir && strings.HasPrefix(m.Dir, target+"/")) {
				m.Tooling = true // it builds against the module that encloses it
			}
		}
		out = append(out, m)
	}
	slices.SortStableFunc(out, func(a, b Module) int {
		if a.Dir == "." {
			return -1
		}
		if b.Dir == "." {
			return 1
		}
		return strings.Compare(a.Dir, b.Dir)
	})
	return out
}

// moduleOf returns the module that holds a directory: the one with the
// longest directory prefix.
func moduleOf(mods []Module, dir string) (Module, bool) {
	best, ok := Module{}, false
	for _, m := range mods {
		if m.Dir == "." || dir == m.Dir || strings.HasPrefix(dir, m.Dir+"/") {
			if !ok || len(m.Dir) > len(best.Dir) || best.Dir == "." {
				best, ok = m, true
			}
		}
	}
	return best, ok
}

// importPath returns a package directory's import path in its module.
func importPath(m Module, dir string) string {
	if dir == m.Dir {
		return m.Path
	}
	if m.Dir == "." {
		return m.Path + "/" + dir
	}
	return m.Path + "/" + strings.TrimPrefix(dir, m.Dir+"/")
}

// deployToken splits deploy commands into words.
var deployToken = regexp.MustCompile(`[^\s"'\[\],=;&|()]+`)

// goBuildTags matches -tags a,b and -tags=a,b in a go build command.
var goBuildTags = regexp.MustCompile(`-tags[= ]+["']?([A-Za-z0-9_.,]+)`)

// deployText is a file or command that builds or runs programs, with the
// directory its relative paths start from.
type deployText struct {
	Dir, Text string
}

// dockerBuildLine matches a command line that builds an image.
var dockerBuildLine = regexp.MustCompile(`\b(docker|podman|nerdctl)\s+(buildx\s+)?(image\s+)?build\b|\bko\s+(build|apply|resolve)\b|\bgcloud\s+(run|app)\s+deploy\b`)

// deployTexts returns the commands and files that build or run programs:
// the service Dockerfiles, the Procfile, compose files, goreleaser and ko
// configs, App Engine app.yaml, Cloud Build configs, Cloud Run (Knative)
// services, fly.toml, Helm charts, systemd units, the manifests'
// container commands and the image builds of Makefiles and scripts. The
// rest of a Makefile is left out: it runs development tools as often as
// it builds the service.
func deployTexts(repo *tf.Repo, docker []*dockerfile, k *kube) []deployText {
	var out []deployText
	add := func(f, text string) { out = append(out, deployText{path.Dir(f), text}) }
	for _, d := range docker {
		add(d.Path, string(repo.Read(d.Path)))
	}
	charts := make(map[string]bool)
	for _, f := range repo.Files {
		if b := tf.Base(f); b == "chart.yaml" || b == "chart.yml" {
			charts[path.Dir(f)] = true
		}
	}
	inChart := func(rel string) bool {
		for d := path.Dir(rel); d != "."; d = path.Dir(d) {
			if charts[d] {
				return true
			}
		}
		return charts["."] && rel != "Chart.yaml"
	}
	for _, f := range repo.Files {
		if tf.OutsideService(f) {
			continue
		}
		b := tf.Base(f)
		ext := path.Ext(b)
		switch {
		case f == "Procfile", isCompose(f), strings.HasPrefix(b, ".goreleaser"), b == ".ko.yaml", b == ".ko.yml",
			b == "fly.toml", strings.HasPrefix(b, "cloudbuild") && (ext == ".yaml" || ext == ".yml" || ext == ".json"),
			strings.HasSuffix(b, ".service") && !strings.Contains(f, "/"+"node_modules/"):
			add(f, string(repo.Read(f)))
		case (b == "app.yaml" || b == "app.yml") && strings.Contains(string(repo.Read(f)), "runtime: go"):
			// App Engine builds the main package in the file's
			// directory unless main: names another.
			add(f, "main: . "+string(repo.Read(f)))
		case (ext == ".yaml" || ext == ".yml") && (inChart(f) || strings.Contains(string(repo.Read(f)), "serving.knative.dev")):
			add(f, string(repo.Read(f)))
		case b == "makefile" || strings.HasSuffix(b, ".mk") || strings.HasSuffix(b, ".sh") ||
			(strings.HasPrefix(f, ".github/") && (ext == ".yml" || ext == ".yaml")):
			for _, l := range lines(repo.Read(f)) {
				if dockerBuildLine.MatchString(l) {
					add(f, l)
				}
			}
		}
	}
	for _, o := range k.Objects {
		if p := o.pod(); p != nil {
			for _, ct := range slices.Concat(p.Spec.Containers, p.Spec.InitContainers) {
				out = append(out, deployText{".", strings.Join(slices.Concat(ct.Command, ct.Args), " ")})
			}
		}
	}
	return out
}

// buildLine matches a line that names the package to build: go build or
// go install, ko's and App Engine's main:, a ko:// reference.
var buildLine = regexp.MustCompile(`\bgo\s+(build|install)\b|\bmain:|ko://`)

// goBuildFlagsWithValue are the go build flags followed by a value.
var goBuildFlagsWithValue = map[string]bool{"-o": true, "-tags": true, "-ldflags": true, "-gcflags": true, "-asmflags": true, "-mod": true, "-modfile": true, "-p": true, "-pkgdir": true, "-toolexec": true, "-overlay": true, "-pgo": true, "-buildmode": true, "-compiler": true, "-installsuffix": true}

// deployPaths returns the words of a deploy text (cmd/server,
// ./cmd/api/..., a binary's name) and, on the lines that build, the
// package paths they name resolved against the text's directory and its
// module's root, relative to the repository root. A go build that names
// no package builds the directory itself.
func deployPaths(t deployText, modRoot string) (words, resolved []string) {
	for _, l := range strings.Split(t.Text, "\n") {
		ws := deployToken.FindAllString(l, -1)
		words = append(words, ws...)
		if !buildLine.MatchString(l) {
			continue
		}
		bases := []string{t.Dir}
		if modRoot != t.Dir {
			bases = append(bases, modRoot) // the build context is the module
		}
		pkgs := 0
		for i := 0; i < len(ws); i++ {
			w := strings.TrimPrefix(ws[i], "ko://")
			if goBuildFlagsWithValue[w] {
				i++
				continue
			}
			if w != "." && !strings.HasPrefix(w, "./") {
				continue
			}
			pkgs++
			for _, b := range bases {
				resolved = append(resolved, path.Join(b, strings.TrimSuffix(w, "/...")))
			}
		}
		if pkgs == 0 && strings.Contains(l, "go build") {
			resolved = append(resolved, bases...)
		}
	}
	return words, resolved
}

// genericBins are binary names too common to tie a command to one main
// package by name alone.
var genericBins = map[string]bool{"main": true, "app": true, "cmd": true, "bin": true, "go": true, "run": true}

// computeScope works out the service's packages from the parsed code and
// the deploy files. Each module decides on its own: its serving mains
// that a deploy file names, else all its serving mains. When a module's
// choice rests on no deploy file while several of its mains serve, or
// while the repository's deploy files name other programs, those
// programs are unconfirmed: their findings are advice.
func computeScope(repo *tf.Repo, src *goSource, docker []*dockerfile, k *kube, pf *procfile) *Scope {
	s := &Scope{Dirs: make(map[string]bool), Modules: modules(repo), closures: make(map[string]map[string]bool), Provided: providedTools(docker), unconfirmed: make(map[string]bool)}
	texts := deployTexts(repo, docker, k)
	for _, t := range texts {
		for _, m := range goBuildTags.FindAllStringSubmatch(t.Text, -1) {
			for _, tag := range strings.Split(m[1], ",") {
				if tag != "" && !slices.Contains(s.Tags, tag) {
					s.Tags = append(s.Tags, tag)
				}
			}
		}
	}
	if len(src.MainDirs) == 0 {
		s.All = true
		return s
	}
	// The import graph inside the repository, by directory.
	byPath := make(map[string]string)
	for dir := range src.Pkgs {
		if m, ok := moduleOf(s.Modules, dir); ok {
			byPath[importPath(m, dir)] = dir
		}
	}
	closure := func(main string) map[string]bool {
		seen := map[string]bool{main: true}
		stack := []string{main}
		for len(stack) > 0 {
			d := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for imp := range src.Pkgs[d].Imports {
				if dep, ok := byPath[imp]; ok && !seen[dep] {
					seen[dep] = true
					stack = append(stack, dep)
				}
			}
		}
		return seen
	}
	var tokens, resolved []string
	for _, t := range texts {
		root := "."
		if m, ok := moduleOf(s.Modules, t.Dir); ok {
			root = m.Dir
		}
		w, r := deployPaths(t, root)
		tokens, resolved = append(tokens, w...), append(resolved, r...)
	}
	names := make(map[string]int) // binary names of the mains, to spot ambiguity
	for d := range src.MainDirs {
		names[binName(s.Modules, d)]++
	}
	deployed := func(d string) bool {
		if slices.Contains(resolved, d) {
			return true
		}
		bin := binName(s.Modules, d)
		for _, t := range tokens {
			t = strings.TrimSuffix(strings.TrimPrefix(t, "./"), "/...")
			t = strings.TrimSuffix(t, "/")
			if strings.Contains(t, "/") {
				t, _, _ = imageRef(t) // ghcr.io/acme/api:1.0 names api
			}
			if d != "." && (t == d || strings.HasSuffix(t, "/"+d)) {
				return true
			}
			if !genericBins[bin] && names[bin] == 1 && (t == bin || strings.HasSuffix(t, "/"+bin)) {
				return true
			}
		}
		return false
	}
	mains := make([]string, 0, len(src.MainDirs))
	for d := range src.MainDirs {
		mains = append(mains, d)
	}
	slices.Sort(mains)
	type choice struct{ serving, deployedServing []string }
	byModule := make(map[string]*choice)
	anyDeployed := false
	var procMains []string
	for _, d := range mains {
		cl := closure(d)
		s.closures[d] = cl
		listens := false
		for dep := range cl {
			listens = listens || src.Pkgs[dep].Listens
		}
		mod, _ := moduleOf(s.Modules, d)
		if mod.Tooling {
			continue // the enclosing module's tooling: never the service
		}
		ch := byModule[mod.Dir]
		if ch == nil {
			ch = &choice{}
			byModule[mod.Dir] = ch
		}
		if listens {
			ch.serving = append(ch.serving, d)
			if deployed(d) {
				ch.deployedServing = append(ch.deployedServing, d)
				anyDeployed = true
			}
		}
		if pf != nil && procfileRuns(pf, s.Modules, d) {
			procMains = append(procMains, d)
			anyDeployed = true
		}
	}
	var chosen []string
	for _, ch := range byModule {
		if len(ch.deployedServing) > 0 {
			chosen = append(chosen, ch.deployedServing...)
			continue
		}
		chosen = append(chosen, ch.serving...)
		if len(ch.serving) > 1 || anyDeployed {
			for _, d := range ch.serving {
				if !slices.Contains(procMains, d) {
					s.unconfirmed[d] = true
				}
			}
		}
	}
	for _, d := range mains {
		if slices.Contains(chosen, d) || slices.Contains(procMains, d) {
			s.Mains = append(s.Mains, d)
			for dep := range s.closures[d] {
				s.Dirs[dep] = true
			}
		} else {
			s.Others = append(s.Others, d)
		}
	}
	return s
}

// binName is the name go build gives a main package's binary.
func binName(mods []Module, dir string) string {
	if m, ok := moduleOf(mods, dir); ok && dir == m.Dir {
		return path.Base(m.Path)
	}
	return path.Base(dir)
}

// procfileRuns reports whether a Procfile process runs the main package.
func procfileRuns(pf *procfile, mods []Module, dir string) bool {
	bin := binName(mods, dir)
	for _, pr := range pf.Procs {
		for _, t := range deployToken.FindAllString(pr.Command, -1) {
			t = strings.TrimPrefix(t, "./")
			if t == bin || strings.HasSuffix(t, "/"+bin) || t == dir {
				return true
			}
		}
	}
	return false
}

// restrict drops the environment reads of packages that only programs
// outside the service import (a CLI, a dev tool). Packages no program
// imports are kept: without a go.mod the import graph is unknown.
func (src *goSource) restrict(s *Scope) {
	if s.All {
		return
	}
	other := make(map[string]bool)
	for _, d := range s.Others {
		for dep := range s.closures[d] {
			other[dep] = !s.Dirs[dep]
		}
	}
	var env []envVar
	for _, v := range src.Env {
		if !other[path.Dir(v.File)] {
			env = append(env, v)
		}
	}
	src.Env = env
	for dir := range src.DynamicEnv {
		if other[dir] {
			delete(src.DynamicEnv, dir)
		}
	}
}
