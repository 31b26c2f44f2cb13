package filerules

import (
	"path"
	"regexp"
	"strings"

	tf "github.com/dozen-go/dozen/twelvefactor/internal/tf"
)

// proc is one Procfile line.
type proc struct {
	Type, Command string
	Line          int
}

// procfile is the parsed Procfile, nil when there is none.
type procfile struct {
	Procs []proc
}

// get returns the process of the type, if any.
func (p *procfile) get(typ string) (proc, bool) {
	if p == nil {
		return proc{}, false
	}
	for _, pr := range p.Procs {
		if pr.Type == typ {
			return pr, true
		}
	}
	return proc{}, false
}

// procLine is a Procfile entry: a process type, a colon, a command.
var procLine = regexp.MustCompile(`^([A-Za-z0-9_-]+):\s*(.*)$`)

// checkProcfile runs VIII1 and the Procfile parts of V1 and VIII2.
func checkProcfile(repo *tf.Repo, c *tf.Collector, src *goSource, mod *modInfo) *procfile {
	data := repo.Read("Procfile")
	if data == nil {
		c.NotApplicable("no Procfile", "VIII1")
		return nil
	}
	pf := &procfile{}
	for i, l := range lines(data) {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		m := procLine.FindStringSubmatch(t)
		if m == nil || strings.TrimSpace(m[2]) == "" {
			c.Addf("VIII1", "Procfile", i+1, "not a Procfile entry (want type: command): %q", t)
			continue
		}
		pr := proc{Type: m[1], Command: m[2], Line: i + 1}
		pf.Procs = append(pf.Procs, pr)
		if b := buildsAtRunTime(pr.Command); b != "" {
			c.Addf("V1", "Procfile", pr.Line, "process %s runs %s", pr.Type, b)
		}
		if how := daemonizes(pr.Command); how != "" {
			c.Addf("VIII2", "Procfile", pr.Line, "process %s backgrounds itself with %s", pr.Type, how)
		}
		checkProcCommand(c, pr, src, mod)
	}
	// A Procfile also drives local process managers (foreman, goreman);
	// only one meant for Heroku must have a web process.
	heroku := repo.Has("app.json") || (mod != nil && (mod.HerokuGo != "" || mod.HerokuInstall != nil))
	if _, ok := pf.get("web"); !ok && src.Listens && heroku {
		c.Addf("VIII1", "Procfile", 1, "the code serves HTTP but the Procfile has no web process")
	}
	return pf
}

// checkProcCommand checks that a command names a main package of the
// repository that the Heroku build installs.
func checkProcCommand(c *tf.Collector, pr proc, src *goSource, mod *modInfo) {
	f := strings.Fields(pr.Command)
	for len(f) > 0 && (strings.Contains(f[0], "=") || f[0] == "exec") {
		f = f[1:] // VAR=value prefixes
	}
	if len(f) == 0 {
		return
	}
	bin := f[0]
	name := strings.TrimPrefix(bin, "./")
	name = strings.TrimPrefix(name, "bin/")
	if strings.Contains(name, "/") || strings.Contains(name, "$") {
		return // a path or variable we cannot follow
	}
	var dir string
	for d := range src.MainDirs {
		if path.Base(d) == name {
			dir = d
		}
	}
	if dir == "" && src.MainDirs["."] && mod != nil && path.Base(mod.Path) == name {
		dir = "." // the main package at the root installs as the module's last element
	}
	if dir == "" {
		if strings.HasPrefix(bin, "bin/") || strings.HasPrefix(bin, "./bin/") {
			c.Addf("VIII1", "Procfile", pr.Line, "process %s runs %s, but there is no main package named %s", pr.Type, bin, name)
		}
		return // a tool from the stack (e.g. a shell builtin)
	}
	if mod == nil || mod.HerokuInstall == nil {
		return
	}
	for _, pat := range mod.HerokuInstall {
		pat = strings.TrimPrefix(pat, "./")
		if pat == dir || pat == "..." || (strings.HasSuffix(pat, "/...") && (dir == strings.TrimSuffix(pat, "/...") || strings.HasPrefix(dir, strings.TrimSuffix(pat, "...")))) || (pat == "." && dir == ".") {
			return
		}
	}
	c.Addf("VIII1", "Procfile", pr.Line, "process %s runs %s, but go.mod's +heroku install (%s) does not build ./%s", pr.Type, name, strings.Join(mod.HerokuInstall, " "), dir)
}
