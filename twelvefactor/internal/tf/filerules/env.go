package filerules

import (
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	tf "github.com/dozen-go/dozen/twelvefactor/internal/tf"
)

// envExampleNames are the files that document the environment contract.
var envExampleNames = []string{".env.example", ".env.sample", ".env.template", ".env.dist", "example.env", "sample.env"}

// runtimeEnv are variables read by the Go runtime, the go command, the
// Heroku Go buildpack or the C library, not by the code, that manifests
// and env files legitimately set.
var runtimeEnv = map[string]bool{
	"GOMEMLIMIT": true, "GOMAXPROCS": true, "GOGC": true, "GODEBUG": true,
	"GOTRACEBACK": true, "TZ": true, "SSL_CERT_FILE": true, "SSL_CERT_DIR": true,
	"HTTP_PROXY": true, "HTTPS_PROXY": true, "NO_PROXY": true,
	"GOFLAGS": true, "GOPROXY": true, "GOPRIVATE": true, "GONOSUMDB": true,
	"GOTOOLCHAIN": true, "CGO_ENABLED": true, "GOVERSION": true,
	"GO_INSTALL_PACKAGE_SPEC": true, "GO_LINKER_SYMBOL": true, "GO_LINKER_VALUE": true,
	// Set by the operating system or the container runtime.
	"HOSTNAME": true, "HOME": true, "USER": true, "PATH": true, "PWD": true, "TMPDIR": true,
}

// otelEnv reports whether name is an OpenTelemetry SDK variable: the
// specification has every SDK read OTEL_* itself, so a service that
// configures tracing that way reads them without naming them.
func otelEnv(name string) bool { return strings.HasPrefix(name, "OTEL_") }

// envLine is one NAME=value line of an env file.
var envLine = regexp.MustCompile(`^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=`)

// commentedEnvLine is a # NAME=value line: in an example file it documents
// an optional variable that is unset by default.
var commentedEnvLine = regexp.MustCompile(`^\s*#\s*(?:export\s+)?([A-Z_][A-Z0-9_]*)=`)

// parseEnvFile returns the names an env file sets.
func parseEnvFile(rel string, data []byte) []envVar {
	return parseEnv(rel, data, envLine)
}

// parseEnvExample returns the names an example env file documents, set or
// commented out.
func parseEnvExample(rel string, data []byte) []envVar {
	return append(parseEnv(rel, data, envLine), parseEnv(rel, data, commentedEnvLine)...)
}

// parseEnv returns the names on the lines that re matches.
func parseEnv(rel string, data []byte, re *regexp.Regexp) []envVar {
	var out []envVar
	for i, l := range lines(data) {
		if m := re.FindStringSubmatch(l); m != nil {
			out = append(out, envVar{Name: m[1], File: rel, Line: i + 1})
		}
	}
	return out
}

// appJSON is the part of Heroku's app.json the rules read.
type appJSON struct {
	Env map[string]json.RawMessage `json:"env"`
}

// appEnv is one app.json env entry.
type appEnv struct {
	Required *bool  `json:"required"`
	Value    string `json:"value"`
}

// composeRef matches ${NAME} and $NAME in compose files.
var composeRef = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)`)

// isCompose reports whether a file is a compose file.
func isCompose(rel string) bool {
	b := tf.Base(rel)
	return strings.Contains(b, "compose") && (strings.HasSuffix(b, ".yaml") || strings.HasSuffix(b, ".yml"))
}

// checkEnvContract runs III2, III6 and IV2.
func checkEnvContract(repo *tf.Repo, c *tf.Collector, src *goSource, k *kube) {
	var example string
	for _, n := range envExampleNames {
		if repo.Has(n) {
			example = n
			break
		}
	}
	checkDotEnvIgnored(repo, c, example)
	if len(src.Env) == 0 {
		c.NotApplicable("the code reads no environment variables", "III2", "IV2")
		return
	}
	checkURLSettings(c, src)
	read := make(map[string]bool)
	for _, v := range src.Env {
		read[v.Name] = true
	}
	// Variables interpolated into compose files are used, though not by
	// the Go code.
	for _, f := range repo.Match(isCompose) {
		for _, m := range composeRef.FindAllStringSubmatch(string(repo.Read(f)), -1) {
			read[m[1]] = true
		}
	}
	derived := func(name string) bool {
		for d := range src.Derived {
			if name == d || strings.HasSuffix(name, "_"+d) {
				return true
			}
		}
		return false
	}
	stale := func(v envVar, where string) {
		if len(src.DynamicEnv) == 0 && !read[v.Name] && !runtimeEnv[v.Name] && !derived(v.Name) && !otelEnv(v.Name) {
			c.Addf("III2", v.File, v.Line, "%s is set in %s but the code does not read it", v.Name, where)
		}
	}
	if example != "" {
		listed := make(map[string]bool)
		for _, v := range parseEnvExample(example, repo.Read(example)) {
			listed[v.Name] = true
			stale(v, example)
		}
		checkUnlisted(c, src, example, repo.Read(example), listed)
	}
	if data := repo.Read("app.json"); data != nil {
		var app appJSON
		if err := json.Unmarshal(data, &app); err != nil {
			c.Addf("III2", "app.json", 0, "app.json does not parse: %v", err)
		} else {
			checkAppJSON(c, src, app, data, stale)
		}
	}
	for _, v := range k.Keys {
		stale(v, "the manifests")
	}
}

// docPointer matches a comment that sends the reader elsewhere for the
// full list of settings: a URL or "see the docs", about documentation or
// configuration.
var (
	docPointer = regexp.MustCompile(`(?i)https?://|\bsee\b|\b(full|complete)\s+list\b`)
	docWords   = regexp.MustCompile(`(?i)(\b|_)(docs?|documentation|readme|wiki|config|configuration|configuring|settings|variables|options|reference)(\b|_)`)
)

// starterExample reports whether an example env file points at other
// documentation for the full list of settings, in the comments before
// its first setting.
func starterExample(data []byte) bool {
	for _, l := range lines(data) {
		t := strings.TrimSpace(l)
		if envLine.MatchString(t) || commentedEnvLine.MatchString(t) {
			return false
		}
		if strings.HasPrefix(t, "#") && docPointer.MatchString(t) && docWords.MatchString(t) {
			return true
		}
	}
	return false
}

// checkUnlisted reports the variables the code reads that the example env
// file does not list. A file that lists fewer than half of them, or that
// points at other documentation for the full list, is a starter (what a
// deploy must set), not the contract: one info finding sums up what it
// leaves out instead of a warning per variable.
func checkUnlisted(c *tf.Collector, src *goSource, example string, data []byte, listed map[string]bool) {
	seen := make(map[string]bool)
	var unlisted []envVar
	for _, v := range src.Env {
		if seen[v.Name] {
			continue
		}
		seen[v.Name] = true
		if !listed[v.Name] {
			unlisted = append(unlisted, v)
		}
	}
	if len(unlisted) == 0 {
		return
	}
	if listedRead := len(seen) - len(unlisted); listedRead*2 >= len(seen) && !starterExample(data) {
		for _, v := range unlisted {
			c.Addf("III2", v.File, v.Line, "the code reads %s, which %s does not list", v.Name, example)
		}
		return
	}
	var names []string
	for _, v := range unlisted[:min(len(unlisted), 5)] {
		names = append(names, v.Name)
	}
	if len(unlisted) > len(names) {
		names = append(names, "…")
	}
	c.Add(tf.Finding{Rule: "III2", File: example, Hardening: true,
		Message: fmt.Sprintf("%s is a starter file: the code reads %d of %d variables that it does not list (%s); make sure the documentation lists them", example, len(unlisted), len(seen), strings.Join(names, ", "))})
}

// checkAppJSON compares app.json's env with the code.
func checkAppJSON(c *tf.Collector, src *goSource, app appJSON, data []byte, stale func(envVar, string)) {
	names := make([]string, 0, len(app.Env))
	for n := range app.Env {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		stale(envVar{Name: n, File: "app.json", Line: lineOf(data, `"`+n+`"`)}, "app.json")
	}
	seen := make(map[string]bool)
	for _, v := range src.Env {
		if !v.Required || seen[v.Name] || runtimeEnv[v.Name] {
			continue
		}
		seen[v.Name] = true
		raw, ok := app.Env[v.Name]
		if !ok {
			c.Addf("III2", v.File, v.Line, "%s is required and has no default, but app.json does not declare it", v.Name)
			continue
		}
		var e appEnv
		if json.Unmarshal(raw, &e) == nil && e.Required != nil && !*e.Required {
			c.Addf("III2", "app.json", lineOf(data, `"`+v.Name+`"`), "%s is required by the code but app.json marks it required: false", v.Name)
		}
	}
}

// checkDotEnvIgnored runs III6.
func checkDotEnvIgnored(repo *tf.Repo, c *tf.Collector, example string) {
	if example == "" && !repo.Has(".env") {
		c.NotApplicable("no .env or .env.example", "III6")
		return
	}
	for _, l := range lines(repo.Read(".gitignore")) {
		p := strings.TrimPrefix(strings.TrimSpace(l), "/")
		if ok, _ := path.Match(p, ".env"); ok {
			return
		}
	}
	c.Addf("III6", ".gitignore", 0, ".gitignore does not ignore .env")
}

// urlParts are the suffixes of settings that split one backing service.
var urlParts = []string{"_HOST", "_USER", "_USERNAME", "_PASSWORD", "_PASS", "_DBNAME", "_DB_NAME"}

// checkURLSettings runs IV2: HOST plus USER or PASSWORD settings with one
// prefix describe a service that one URL setting would attach.
func checkURLSettings(c *tf.Collector, src *goSource) {
	parts := make(map[string]map[string]envVar)
	var prefixes []string
	for _, v := range src.Env {
		for _, suf := range urlParts {
			if p, ok := strings.CutSuffix(v.Name, suf); ok && p != "" {
				if parts[p] == nil {
					parts[p] = make(map[string]envVar)
					prefixes = append(prefixes, p)
				}
				parts[p][suf] = v
			}
		}
	}
	for _, p := range prefixes {
		host, ok := parts[p]["_HOST"]
		if !ok || len(parts[p]) < 2 {
			continue
		}
		var names []string
		for suf := range parts[p] {
			names = append(names, p+suf)
		}
		slices.Sort(names)
		c.Addf("IV2", host.File, host.Line, "%s describe one backing service; attach it with one %s_URL setting", strings.Join(names, ", "), p)
	}
}
