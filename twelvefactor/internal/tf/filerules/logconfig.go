package filerules

import (
	"path"
	"regexp"
	"strings"

	tf "github.com/dozen-go/dozen/twelvefactor/internal/tf"
)

// logSetting matches a config line that sets where logs go: a key, and its
// value. log-output: stdout,file; log_file = "/var/log/app.log".
var logSetting = regexp.MustCompile(`^\s*-?\s*["']?([A-Za-z0-9_.-]+)["']?\s*[:=]\s*["']?([^"'#]*?)["']?\s*,?\s*(?:#.*)?$`)

// logFileValue reports whether a setting sends logs to a file: a value
// that names a .log file or a path under /var/log, or a log output setting
// whose list of outputs includes file.
func logFileValue(key, value string) bool {
	v := strings.TrimSpace(value)
	if v == "" || strings.ContainsAny(v, "${}") {
		return false
	}
	if strings.HasSuffix(v, ".log") || strings.HasPrefix(v, "/var/log/") {
		return true
	}
	k := strings.ToLower(key)
	if !strings.Contains(k, "log") || !(strings.Contains(k, "output") || strings.Contains(k, "target") || strings.Contains(k, "sink") || strings.Contains(k, "mode")) {
		return false
	}
	for _, w := range strings.FieldsFunc(strings.ToLower(v), func(r rune) bool { return r == ',' || r == ' ' || r == ';' || r == '|' || r == '[' || r == ']' }) {
		if w == "file" || w == "files" {
			return true
		}
	}
	return false
}

// copiedIntoImage reports whether the final stage of a Dockerfile copies
// the repository file, or a directory holding it, into the image. A copy
// of the whole context (COPY . .) is left out: it takes in every file,
// used or not.
func copiedIntoImage(ds []*dockerfile, f string) bool {
	var targets []string
	for p := f; p != "." && p != "/"; p = path.Dir(p) {
		targets = append(targets, p)
	}
	for _, d := range ds {
		for _, cp := range d.final().Copies {
			for _, src := range cp.Args {
				src = path.Clean(strings.TrimPrefix(src, "./"))
				for _, t := range targets {
					if (cp.From == "" && src == t) || (cp.From != "" && strings.HasSuffix(src, "/"+t)) {
						return true
					}
				}
			}
		}
	}
	return false
}

// checkLogConfig runs XI1 over the config files that the service's image
// copies in: a committed setting that sends the logs to a file does so in
// every deploy of the image.
func checkLogConfig(repo *tf.Repo, c *tf.Collector, docker []*dockerfile) {
	if len(docker) == 0 {
		return
	}
	for _, f := range repo.Files {
		switch path.Ext(f) {
		case ".yaml", ".yml", ".toml", ".ini", ".conf", ".properties", ".json":
		default:
			continue
		}
		if tf.OutsideService(f) || isCompose(f) || isLockFile(f) || !copiedIntoImage(docker, f) {
			continue
		}
		for i, l := range lines(repo.Read(f)) {
			if m := logSetting.FindStringSubmatch(l); m != nil && logFileValue(m[1], m[2]) {
				c.Addf("XI1", f, i+1, "%s sends the logs to a file (%s = %s), and the image copies this config in; logs belong on stdout", path.Base(f), m[1], strings.TrimSpace(m[2]))
			}
		}
	}
}
