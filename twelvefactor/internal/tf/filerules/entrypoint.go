package filerules

import (
	"path"
	"regexp"
	"slices"
	"strings"

	tf "github.com/dozen-go/dozen/twelvefactor/internal/tf"
)

// scriptNames are the names of start scripts that carry no .sh suffix.
var scriptNames = map[string]bool{"entrypoint": true, "docker-entrypoint": true, "start": true, "run": true, "boot": true}

// logRedirect matches output sent to a log file: > app.log, >> /var/log/x,
// | tee -a server.log.
var logRedirect = regexp.MustCompile(`(?:[^0-9&]>>?|^>>?|\|\s*tee\s+(?:-a\s+)?)\s*["']?(/var/log/[^\s"';&|]+|[^\s"';&|]+\.log)\b`)

// migrateCmd matches a migration tool run up.
var migrateCmd = regexp.MustCompile(`(?:^|[\s/;&|])(?:migrate|goose|dbmate|tern|sql-migrate)\b[^;&|]*\s(?:up|migrate)\b`)

// waitCmd matches a shell wait for background children.
var waitCmd = regexp.MustCompile(`(?:^|[;&|]\s*)wait\b`)

// assignment matches NAME=value on its own.
var assignment = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=\S*$`)

// checkStartScripts runs XI1, V4, IX1 and VIII2 over the shell scripts
// that the final stage of a Dockerfile or a Procfile process starts with:
// logs redirected to files, migrations run at every start, and a server
// started without exec, which leaves SIGTERM with the shell.
func checkStartScripts(repo *tf.Repo, c *tf.Collector, docker []*dockerfile, pf *procfile) {
	var starts []struct{ from, cmd string }
	for _, d := range docker {
		if !d.buildsGo() {
			continue // an emulator's or a frontend's image: not this service's process
		}
		for _, cmd := range d.final().Start {
			starts = append(starts, struct{ from, cmd string }{d.Path, strings.Join(cmd.Args, " ")})
		}
	}
	if pf != nil {
		for _, pr := range pf.Procs {
			starts = append(starts, struct{ from, cmd string }{"Procfile", pr.Command})
		}
	}
	seen := make(map[string]bool)
	for _, s := range starts {
		for _, t := range deployToken.FindAllString(s.cmd, -1) {
			base := path.Base(t)
			if !strings.HasSuffix(base, ".sh") && !scriptNames[base] {
				continue
			}
			script := findScript(repo, path.Dir(s.from), base)
			if script == "" || seen[script] {
				continue
			}
			seen[script] = true
			checkStartScript(c, script, repo.Read(script))
		}
	}
}

// findScript returns the repository file with the base name, preferring
// one beside the file that starts it.
func findScript(repo *tf.Repo, dir, base string) string {
	var found []string
	for _, f := range repo.Files {
		if path.Base(f) == base && !tf.OutsideService(f) {
			found = append(found, f)
		}
	}
	if i := slices.IndexFunc(found, func(f string) bool { return path.Dir(f) == dir }); i >= 0 {
		return found[i]
	}
	if len(found) == 1 {
		return found[0]
	}
	return ""
}

// checkStartScript checks one start script.
func checkStartScript(c *tf.Collector, file string, data []byte) {
	last, lastLine, waitLine := "", 0, 0
	traps := false
	for i, l := range lines(data) {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		if m := logRedirect.FindStringSubmatch(t); m != nil {
			c.Addf("XI1", file, i+1, "the start script sends output to the file %s; logs belong on stdout", m[1])
		}
		if migrateCmd.MatchString(t) {
			c.Addf("V4", file, i+1, "the start script runs the migrations at every start of the process; run them once per release")
		}
		if waitCmd.MatchString(t) {
			waitLine = i + 1
		}
		f := strings.Fields(t)
		switch {
		case f[0] == "trap":
			traps = true
		case slices.Contains([]string{"fi", "done", "esac", "}", ";;", "wait", "exit", "set", "echo", "printf", "then", "else", "do", "cd", "export", "shift", "return", "source", "."}, f[0]),
			strings.HasSuffix(t, "{"), strings.HasSuffix(t, ")") && !strings.Contains(t, " "), assignment.MatchString(t):
		default:
			last, lastLine = t, i+1
		}
	}
	if last == "" {
		return
	}
	// A command backgrounded and then waited for keeps the script in the
	// foreground as its supervisor: not a daemon.
	if how := daemonizes(last); how != "" && waitLine <= lastLine {
		c.Addf("VIII2", file, lastLine, "the start script backgrounds its last command with %s", how)
		return
	}
	if !strings.HasPrefix(last, "exec ") && !traps {
		c.Addf("IX1", file, lastLine, "the start script runs %q without exec: SIGTERM reaches the shell, not the server", strings.Fields(last)[0])
	}
}
