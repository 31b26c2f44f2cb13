package filerules

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	tf "github.com/dozen-go/dozen/twelvefactor/internal/tf"
)

// checkPorts runs VII2 and VII3.
func checkPorts(repo *tf.Repo, c *tf.Collector, src *goSource, docker []*dockerfile, k *kube, pf *procfile) {
	web, hasWeb := pf.get("web")
	var exposes []command
	var exposeFile string
	for _, d := range docker {
		if len(d.final().Expose) > 0 {
			exposes, exposeFile = d.final().Expose, d.Path
		}
	}
	if !hasWeb && !src.Listens && len(exposes) == 0 {
		c.NotApplicable("no web process", "VII2", "VII3")
		return
	}
	port, readsPort := src.env("PORT")
	// A map from variable names to options, or an option library's
	// EnvVars: the program's own option parser reads PORT.
	readsPort = readsPort || src.Named["PORT"]
	// pgweb --listen=$PORT: the Procfile hands PORT over as a flag.
	readsPort = readsPort || (hasWeb && (strings.Contains(web.Command, "$PORT") || strings.Contains(web.Command, "${PORT")))
	// CMD statping --port $PORT: the image hands PORT over as a flag.
	readsPort = readsPort || slices.ContainsFunc(docker, func(d *dockerfile) bool { return passesPortFlag(repo, d) })
	// Only platforms that assign the port (Heroku and its kind, seen
	// through a Procfile web process or app.json) make PORT a must; a
	// server configured by flags or files binds the port through config
	// too.
	platform := hasWeb || repo.Has("app.json")
	if !platform {
		c.NotApplicable("no Procfile web process or app.json", "VII2")
	}
	if platform && !readsPort {
		file, line := "", 0
		if hasWeb {
			file, line = "Procfile", web.Line
		}
		c.Addf("VII2", file, line, "the repository has a web process but the code never reads PORT")
	}
	def, _ := strconv.Atoi(port.Default)
	if def > 0 && len(exposes) > 0 {
		var all []string
		for _, e := range exposes {
			for _, a := range e.Args {
				all = append(all, strings.Split(a, "/")[0])
			}
		}
		if !slices.Contains(all, strconv.Itoa(def)) {
			c.Addf("VII3", exposeFile, exposes[0].Line, "EXPOSE %s does not include the default PORT %d (%s:%d)", strings.Join(all, " "), def, port.File, port.Line)
		}
	}
	checkKubePorts(c, k, def)
}

// portFlag matches PORT handed to a program as a flag's value: --port
// $PORT, -port ${PORT}, --listen :$PORT, -addr=0.0.0.0:${PORT}.
var portFlag = regexp.MustCompile(`(?:^|\s)--?[A-Za-z][\w.-]*(?:=|\s+)[^\s$]*\$\{?PORT\b`)

// passesPortFlag reports whether a Dockerfile's final stage starts the
// program with PORT as a flag's value, in its CMD or ENTRYPOINT or in a
// start script it runs (entrypoint.sh, start.sh).
func passesPortFlag(repo *tf.Repo, d *dockerfile) bool {
	unquote := strings.NewReplacer(`"`, "", `'`, "")
	for _, cmd := range d.final().Start {
		line := unquote.Replace(strings.Join(cmd.Args, " "))
		if portFlag.MatchString(line) {
			return true
		}
		for _, tok := range deployToken.FindAllString(line, -1) {
			base := path.Base(tok)
			if !strings.HasSuffix(base, ".sh") && !scriptNames[base] {
				continue
			}
			script := findScript(repo, path.Dir(d.Path), base)
			if script == "" {
				continue
			}
			for _, l := range lines(repo.Read(script)) {
				if t := strings.TrimSpace(l); !strings.HasPrefix(t, "#") && portFlag.MatchString(unquote.Replace(t)) {
					return true
				}
			}
		}
	}
	return false
}

// portString renders a YAML int-or-string port.
func portString(p any) string { return fmt.Sprint(p) }

// checkKubePorts checks that probes and Services aim at declared ports.
func checkKubePorts(c *tf.Collector, k *kube, def int) {
	declared := make(map[string]bool) // "8080" and "http", over every container
	setsPort := false
	for _, key := range k.Keys {
		setsPort = setsPort || key.Name == "PORT"
	}
	for _, o := range k.Objects {
		p := o.pod()
		if p == nil {
			continue
		}
		for _, ct := range p.Spec.Containers {
			own := make(map[string]bool)
			for _, cp := range ct.Ports {
				own[strconv.Itoa(cp.ContainerPort)] = true
				if cp.Name != "" {
					own[cp.Name] = true
				}
			}
			for name := range own {
				declared[name] = true // a Service may target any container
			}
			if !k.ours(ct.Image) {
				continue
			}
			for _, pr := range []*probe{ct.ReadinessProbe, ct.LivenessProbe} {
				if pr == nil || pr.port() == nil {
					continue
				}
				if ps := portString(pr.port()); !own[ps] {
					c.Addf("VII3", o.File, ct.Line, "container %s probes port %s, which it does not declare", ct.Name, ps)
				}
			}
			if def > 0 && len(ct.Ports) > 0 && !own[strconv.Itoa(def)] && !setsPort && o.Kind == "Deployment" {
				c.Addf("VII3", o.File, ct.Line, "container %s declares no port %d, the default PORT, and the manifests do not set PORT", ct.Name, def)
			}
		}
	}
	for _, o := range k.Objects {
		if o.Kind != "Service" {
			continue
		}
		for _, sp := range o.Spec.Ports {
			target := sp.TargetPort
			if target == nil {
				target = sp.Port
			}
			if ts := portString(target); len(declared) > 0 && !declared[ts] {
				c.Addf("VII3", o.File, o.Line, "Service %s targets port %s, which no container declares", o.Metadata.Name, ts)
			}
		}
	}
}
