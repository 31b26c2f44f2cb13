// Package filerules holds the checks that read the repository's files
// rather than its type-checked Go code: go.mod, Dockerfiles, Kubernetes
// manifests, the Procfile, app.json, .env.example, migrations and secrets.
// They run even when the Go code does not compile.
package filerules

import (
	"bufio"
	"bytes"
	"strings"

	tf "github.com/dozen-go/dozen/twelvefactor/internal/tf"
)

// Check runs every file rule over the repository and returns the scope of
// the service, which the code rules use too.
func Check(repo *tf.Repo, c *tf.Collector) *Scope {
	src := parseGo(repo)
	mod := checkGoMod(repo, c)
	docker := checkDockerfiles(repo, c)
	kube := checkKube(repo, c, src)
	proc := checkProcfile(repo, c, src, mod)
	checkStartScripts(repo, c, docker, proc)
	scope := computeScope(repo, src, docker, kube, proc)
	src.restrict(scope)
	checkMigrations(repo, c, src, docker, kube, proc)
	checkEnvContract(repo, c, src, kube)
	checkPorts(repo, c, src, docker, kube, proc)
	checkGoVersion(repo, c, mod, docker)
	checkSecrets(repo, c)
	checkLogConfig(repo, c, docker)
	checkFiles(repo, c)
	renders := renderKube(repo, c)
	img := readImage(repo, mainNames(src))
	checkProcesses(repo, c, src, proc, renders, img)
	checkShutdown(repo, c, src, proc, renders, img)
	checkProbePorts(c, src, renders, img)
	checkRollout(c, src, renders, img)
	return scope
}

// lines returns a file's lines without their newlines.
func lines(b []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// buildsAtRunTime reports whether a start command compiles code: go run,
// build, install or generate anywhere in it (nodemon --exec go run …), or
// make as a command.
func buildsAtRunTime(cmd string) string {
	f := strings.Fields(strings.NewReplacer(";", " ; ", "&&", " && ", "|", " | ").Replace(cmd))
	for i, w := range f {
		w = strings.Trim(w, `"'[],`)
		if (w == "go" || strings.HasSuffix(w, "/go")) && i+1 < len(f) {
			switch sub := strings.Trim(f[i+1], `"'[],`); sub {
			case "run", "build", "install", "generate":
				return "go " + sub
			}
		}
		atCommand := i == 0 || strings.Contains(";&&|exec-c", strings.Trim(f[i-1], `"'[],`))
		if atCommand && (w == "make" || strings.HasSuffix(w, "/make")) {
			return "make"
		}
	}
	return ""
}

// daemonizes reports how a start command backgrounds its process.
func daemonizes(cmd string) string {
	t := strings.TrimSpace(cmd)
	for _, w := range strings.Fields(t) {
		switch strings.Trim(w, `"'[],`) {
		case "nohup", "daemonize", "start-stop-daemon", "setsid":
			return w
		}
	}
	if strings.HasSuffix(t, "&") && !strings.HasSuffix(t, "&&") {
		return "a trailing &"
	}
	if strings.Contains(t, "& ") && !strings.Contains(t, "&&") {
		return "&"
	}
	return ""
}
