package filerules

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"

	tf "github.com/dozen-go/dozen/twelvefactor/internal/tf"
)

// invocation is a binary of the codebase and its arguments: what a
// process type runs.
type invocation struct {
	Bin  string // the main package's directory name
	Args string // the arguments, space-separated
}

func (v invocation) String() string { return strings.TrimSpace(v.Bin + " " + v.Args) }

// invocationOf splits a command into the binary's base name and its
// arguments, past VAR=value prefixes and exec.
func invocationOf(words []string) invocation {
	for len(words) > 0 && (strings.Contains(words[0], "=") || words[0] == "exec") {
		words = words[1:]
	}
	if len(words) == 0 {
		return invocation{}
	}
	return invocation{Bin: path.Base(words[0]), Args: strings.Join(words[1:], " ")}
}

// mainNames returns the names the build gives the repository's main
// packages, by directory.
func mainNames(src *goSource) map[string]string {
	names := map[string]string{}
	for d := range src.MainDirs {
		if d != "." {
			names[path.Base(d)] = d
		}
	}
	return names
}

// appContainer returns what a container of the codebase runs: command
// (else the image's ENTRYPOINT) then args (else, without a command, the
// image's CMD), when that names one of the codebase's main packages. A
// container with neither command nor args counts only in a pod of one
// container, where it is the service's own image; ok is false for other
// images' containers.
func appContainer(pod *corev1.PodSpec, ct *corev1.Container, mains map[string]string, img *image) (inv invocation, ok bool) {
	words := slices.Concat(ct.Command, ct.Args)
	if len(ct.Command) == 0 {
		if img == nil || (len(ct.Args) == 0 && len(pod.Containers) != 1) {
			return invocation{}, false
		}
		words = slices.Clone(img.Entrypoint)
		if len(ct.Args) > 0 {
			words = append(words, ct.Args...)
		} else {
			words = append(words, img.Cmd...)
		}
	}
	inv = invocationOf(words)
	_, ok = mains[inv.Bin]
	return inv, ok
}

// image is what the rules read from the service's Dockerfile: the main
// packages its build stages compile, and its default command.
type image struct {
	File  string
	Built map[string]int // main package names, with the line of the RUN that builds them
	All   bool           // a RUN builds ./... or ./cmd/...: every main package
	// Entrypoint and Cmd are the final stage's, in exec form.
	Entrypoint, Cmd []string
}

// readImage reads the first Dockerfile of the service.
func readImage(repo *tf.Repo, mains map[string]string) *image {
	files := repo.Match(func(rel string) bool {
		return isDockerfile(rel) && packaging(rel, repo.Read(rel)) == "" && testHarness(repo, rel, repo.Read(rel)) == ""
	})
	if len(files) == 0 {
		return nil
	}
	res, err := parser.Parse(bytes.NewReader(repo.Read(files[0])))
	if err != nil {
		return nil // checkDockerfiles notes it
	}
	img := &image{File: files[0], Built: map[string]int{}}
	for _, n := range res.AST.Children {
		var words []string
		for a := n.Next; a != nil; a = a.Next {
			words = append(words, a.Value)
		}
		switch strings.ToLower(n.Value) {
		case "run":
			f := strings.Fields(strings.Join(words, " "))
			if !slices.Contains(f, "go") || !(slices.Contains(f, "build") || slices.Contains(f, "install")) {
				continue
			}
			for _, w := range f {
				w = strings.TrimSuffix(strings.TrimPrefix(w, "./"), "/")
				switch {
				case w == "..." || w == "cmd/...":
					img.All = true
				case strings.HasPrefix(w, "cmd/") && mains[path.Base(w)] == w:
					img.Built[path.Base(w)] = n.StartLine
				}
			}
		case "from":
			img.Entrypoint, img.Cmd = nil, nil
		case "cmd", "entrypoint":
			if n.Attributes["json"] == false {
				words = append([]string{"/bin/sh", "-c"}, words...)
			}
			if strings.EqualFold(n.Value, "cmd") {
				img.Cmd = words
			} else {
				img.Entrypoint = words
			}
		}
	}
	return img
}

// cmd returns what the image runs by default, if there is an image.
func (img *image) cmd() invocation {
	if img == nil {
		return invocation{}
	}
	return invocationOf(slices.Concat(img.Entrypoint, img.Cmd))
}

// builds reports whether the image compiles the main package.
func (img *image) builds(name string) bool {
	_, ok := img.Built[name]
	return img.All || ok
}

// formation is app.json's formation, with the line of each type.
func formation(data []byte) (map[string]int, bool) {
	var app struct {
		Formation map[string]json.RawMessage `json:"formation"`
	}
	if json.Unmarshal(data, &app) != nil || app.Formation == nil {
		return nil, false
	}
	types := map[string]int{}
	for typ := range app.Formation {
		types[typ] = lineOf(data, fmt.Sprintf("%q", typ))
	}
	return types, true
}

// composeService is one service of a compose file that runs the codebase.
type composeService struct {
	Name string
	Line int
	Run  invocation
}

// composeApp returns the services of a compose file that run a main
// package of the codebase: those that build the image here, or name a
// main package in their command.
func composeApp(data []byte, mains map[string]string, imageCmd invocation) []composeService {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return nil
	}
	var services *yaml.Node
	top := doc.Content[0]
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value == "services" {
			services = top.Content[i+1]
		}
	}
	if services == nil {
		return nil
	}
	var out []composeService
	for i := 0; i+1 < len(services.Content); i += 2 {
		var svc struct {
			Build   any `yaml:"build"`
			Command any `yaml:"command"`
		}
		if services.Content[i+1].Decode(&svc) != nil {
			continue
		}
		var words []string
		switch cmd := svc.Command.(type) {
		case string:
			words = strings.Fields(cmd)
		case []any:
			for _, w := range cmd {
				words = append(words, fmt.Sprint(w))
			}
		}
		run := invocationOf(words)
		if len(words) == 0 {
			if svc.Build == nil {
				continue
			}
			run = imageCmd
		}
		if _, ok := mains[run.Bin]; !ok {
			continue
		}
		out = append(out, composeService{services.Content[i].Value, services.Content[i].Line, run})
	}
	return out
}

// checkProcesses runs VIII4: every process type of the Procfile is built
// into the image, scaled by app.json, run by every rendered
// kustomization and by compose, and nothing there runs a binary of the
// codebase that is no process type.
func checkProcesses(repo *tf.Repo, c *tf.Collector, src *goSource, pf *procfile, renders []*rendering, img *image) {
	if pf == nil || len(pf.Procs) == 0 {
		c.NotApplicable("no Procfile", "VIII4")
		return
	}
	mains := mainNames(src)
	types := map[invocation]proc{}
	for _, p := range pf.Procs {
		inv := invocationOf(strings.Fields(p.Command))
		if _, ok := mains[inv.Bin]; ok {
			types[inv] = p
		}
	}
	if len(types) == 0 {
		c.NotApplicable("no Procfile process runs a main package of the repository", "VIII4")
		return
	}
	typeOf := func(inv invocation) (proc, bool) { p, ok := types[inv]; return p, ok }
	ordered := slices.SortedFunc(func(yield func(invocation) bool) {
		for inv := range types {
			if !yield(inv) {
				return
			}
		}
	}, func(a, b invocation) int { return types[a].Line - types[b].Line })

	imageCmd := img.cmd()
	if img != nil {
		if len(img.Built) > 0 || img.All {
			for _, inv := range ordered {
				if !img.builds(inv.Bin) {
					c.Addf("VIII4", "Procfile", types[inv].Line, "process %s runs %s, which %s does not build", types[inv].Type, inv.Bin, img.File)
				}
			}
			for name, line := range img.Built {
				if !slices.ContainsFunc(ordered, func(inv invocation) bool { return inv.Bin == name }) {
					c.Addf("VIII4", img.File, line, "%s builds %s, which no Procfile process runs", img.File, mains[name])
				}
			}
		}
	}

	if data := repo.Read("app.json"); data != nil {
		if scaled, ok := formation(data); ok {
			for typ, line := range scaled {
				if _, ok := pf.get(typ); !ok {
					c.Addf("VIII4", "app.json", line, "app.json scales process %s, which the Procfile does not have", typ)
				}
			}
			for _, inv := range ordered {
				p := types[inv]
				if _, ok := scaled[p.Type]; !ok && p.Type != "release" {
					c.Addf("VIII4", "Procfile", p.Line, "process %s is not in app.json's formation, so Heroku starts it with no dynos", p.Type)
				}
			}
		}
	}

	for _, r := range renders {
		ran := map[invocation]bool{}
		for _, w := range r.Workloads {
			for i := range w.Pod.Spec.Containers {
				inv, ok := appContainer(&w.Pod.Spec, &w.Pod.Spec.Containers[i], mains, img)
				if !ok {
					continue
				}
				p, ok := typeOf(inv)
				switch {
				case !ok:
					c.Addf("VIII4", w.File, w.Line, "%s %s runs %s in %s, which is no Procfile process", w.Kind, w.Name, inv, r.Dir)
				case p.Type == "release" && w.longRunning():
					c.Addf("VIII4", w.File, w.Line, "%s %s runs the release step %s; a Job runs it once per release", w.Kind, w.Name, inv)
				case p.Type != "release" && !w.longRunning():
					c.Addf("VIII4", w.File, w.Line, "%s %s runs process %s (%s), which must keep running: use a Deployment", w.Kind, w.Name, p.Type, inv)
				}
				ran[inv] = true
			}
		}
		for _, inv := range ordered {
			if !ran[inv] {
				c.Addf("VIII4", r.File, 1, "%s runs no process %s (%s)", r.Dir, types[inv].Type, inv)
			}
		}
	}

	for _, f := range repo.Match(isCompose) {
		svcs := composeApp(repo.Read(f), mains, imageCmd)
		if len(svcs) == 0 {
			continue
		}
		ran := map[invocation]bool{}
		for _, s := range svcs {
			ran[s.Run] = true
			if _, ok := typeOf(s.Run); !ok {
				c.Addf("VIII4", f, s.Line, "service %s runs %s, which is no Procfile process", s.Name, s.Run)
			}
		}
		for _, inv := range ordered {
			if !ran[inv] {
				c.Addf("VIII4", f, 1, "%s runs no process %s (%s)", f, types[inv].Type, inv)
			}
		}
	}
}
