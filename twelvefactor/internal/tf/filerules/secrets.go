package filerules

import (
	"encoding/base64"
	"fmt"
	"go/build/constraint"
	"net"
	"path"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	tf "github.com/dozen-go/dozen/twelvefactor/internal/tf"
)

// secretPatterns match credentials with a recognisable shape. A pattern
// runs only on lines holding one of its hints, which keeps the scan of a
// large repository fast.
var secretPatterns = []struct {
	what  string
	hints []string
	re    *regexp.Regexp
}{
	{"a private key", []string{"PRIVATE KEY"}, regexp.MustCompile(`-----BEGIN ((RSA|EC|DSA|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY( BLOCK)?-----`)},
	{"an AWS access key id", []string{"AKIA", "ASIA"}, regexp.MustCompile(`\b(AKIA|ASIA)[0-9A-Z]{16}\b`)},
	{"a GitHub token", []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"}, regexp.MustCompile(`\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{60,})\b`)},
	{"a Slack token", []string{"xox"}, regexp.MustCompile(`\bxox[abprs]-[0-9]{8,}-[0-9]{8,}-[0-9A-Za-z]{20,}`)},
	{"a Stripe live key", []string{"k_live_"}, regexp.MustCompile(`\b[sr]k_live_[A-Za-z0-9]{16,}`)},
	{"a Google API key", []string{"AIza"}, regexp.MustCompile(`\bAIza[0-9A-Za-z_-]{35}\b`)},
	{"", []string{"://"}, nil}, // credURL, below
}

// hinted reports whether s holds one of the hints.
func hinted(s string, hints []string) bool {
	for _, h := range hints {
		if strings.Contains(s, h) {
			return true
		}
	}
	return false
}

// credURL matches scheme://user:password@host. The password may hold an
// @ (p@ss): the host starts after the last @ before the path.
var credURL = regexp.MustCompile(`\b[a-z][a-z0-9+.-]*://([^\s:/@'"]+):([^\s/'"]+)@([^\s/:'"?#@]+)`)

// placeholder reports whether a password is a stand-in, not a secret.
func placeholder(user, pass string) bool {
	// P@ssw0rd and s3cret are the stand-ins' spellings too.
	p := strings.NewReplacer("@", "a", "0", "o", "3", "e", "$", "s", "1", "i").Replace(strings.ToLower(pass))
	if pass == user || strings.ContainsAny(pass, "$<>{}*%") {
		return true
	}
	for _, w := range []string{"pass", "secret", "change", "replace", "your", "example", "xxx", "dummy", "test", "redacted", "...", "fake", "sample", "placeholder", "todo", "fixme", "insecure"} {
		if strings.Contains(p, w) {
			return true
		}
	}
	// The stock credentials of development images are not secrets.
	switch p {
	case "postgres", "root", "admin", "mysql", "guest", "minioadmin", "rabbitmq", "redis", "user", "dev", "local", "default", "none", "123456", "12345678":
		return true
	}
	return false
}

// localHost reports whether a host is a development or documentation host.
func localHost(host string) bool {
	h := strings.ToLower(host)
	if !strings.Contains(h, ".") || h == "localhost" {
		return true // a compose service name, or localhost
	}
	if ip := net.ParseIP(h); ip != nil {
		return ip.IsLoopback() || ip.IsPrivate() || ip.IsUnspecified()
	}
	if h == "host.docker.internal" {
		return true // the developer's machine, seen from a container
	}
	// .internal is a private production zone (db.prod.internal), not a
	// development host.
	for _, suf := range []string{".local", ".localhost", ".test", ".example", ".invalid", "example.com", "example.org", "example.net"} {
		if strings.HasSuffix(h, suf) {
			return true
		}
	}
	return false
}

// secretSetting matches a config file line that sets a password, secret,
// API key or token: password: hunter2, "apiKey": "…", db_secret = "…".
var secretSetting = regexp.MustCompile(`(?i)^\s*-?\s*["']?([A-Za-z0-9_.-]*(?:password|passwd|pwd|secret|api[_-]?key|access[_-]?key|auth[_-]?token|private[_-]?key))["']?\s*[:=]\s*["']?([^"'#\s]+)["']?\s*,?\s*(?:#.*)?$`)

// configFile reports whether a file is a config file whose settings the
// secret scan reads: YAML, JSON, TOML, INI and properties files, but not
// compose files and manifests (their values come from the environment or
// are a dev stack's) nor CI workflows.
func configFile(rel string, data string) bool {
	switch path.Ext(rel) {
	case ".yaml", ".yml", ".json", ".toml", ".ini", ".properties", ".conf":
	default:
		return false
	}
	if isCompose(rel) || strings.HasPrefix(rel, ".github/") || strings.Contains(data, "apiVersion:") || tf.Base(rel) == "package.json" {
		return false
	}
	return !translation(rel)
}

// translationDirs are the directory names that hold translation catalogs.
var translationDirs = map[string]bool{
	"messages": true, "locale": true, "locales": true, "i18n": true, "l10n": true,
	"lang": true, "langs": true, "language": true, "languages": true, "translations": true,
}

// localeName matches a file named for a language or locale: da.json,
// pt-BR.json, en_US.yaml, zh-Hans.json, sr-Latn-RS.json. The language
// must be an ISO 639-1 code.
var localeName = regexp.MustCompile(`^([a-z]{2})(?:[-_][A-Za-z]{4})?(?:[-_](?:[A-Za-z]{2}|[0-9]{3}))?\.[a-z]+$`)

// iso639 are the two-letter language codes of ISO 639-1.
var iso639 = make(map[string]bool)

func init() {
	for _, code := range strings.Fields(`aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy
		da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu
		ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no
		nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl
		tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu`) {
		iso639[code] = true
	}
}

// translation reports whether a file is a translation catalog: in a
// directory of translations (messages/, locales/, i18n/) or named for a
// language or locale (da.json, pt-BR.json). Its entries label fields
// (api_key: API-nøgle); they set nothing.
func translation(rel string) bool {
	for _, d := range strings.Split(path.Dir(rel), "/") {
		if translationDirs[strings.ToLower(d)] {
			return true
		}
	}
	m := localeName.FindStringSubmatch(path.Base(rel))
	return m != nil && iso639[m[1]]
}

// literalSecret reports whether a config value is a literal secret rather
// than a reference ($VAR, {{ .Values.x }}, <secret>), a variable or file
// name, a boolean or a number, or a stand-in.
func literalSecret(key, value string) bool {
	if len(value) < 6 || strings.ContainsAny(value, "$<>{}%/") || strings.HasPrefix(value, "ENC[") {
		return false
	}
	if !strings.ContainsFunc(value, func(r rune) bool { return r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)) }) {
		return false // no ASCII letter or digit: data (an emoji named "secret"), not a credential
	}
	if strings.Trim(value, "0123456789.") == "" {
		return false // a number: a length, a TTL
	}
	if strings.ToUpper(value) == value && strings.Trim(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == "" {
		return false // the name of an environment variable
	}
	switch strings.ToLower(value) {
	case "true", "false", "null", "none", "required", "optional":
		return false
	}
	if r := []rune(value); unicode.IsUpper(r[0]) && !strings.ContainsFunc(value, func(r rune) bool { return !unicode.IsLetter(r) }) {
		return false // a label (Password, Contraseña), not a secret
	}
	if versionRange.MatchString(value) {
		return false // a dependency's version (^4.0.0), not a secret
	}
	if decoded, ok := decodeBase64(value); ok && placeholder(key, decoded) {
		return false // base64 of a stand-in ("c2VjcmV0" is "secret")
	}
	return !placeholder(key, value)
}

// versionRange matches a package version or version range.
var versionRange = regexp.MustCompile(`^[~^<>=]*v?[0-9]+(\.[0-9x*]+)+([-+][0-9A-Za-z.-]*)?$`)

// decodeBase64 decodes a value written in standard or URL base64, when
// what it holds is printable text.
func decodeBase64(value string) (string, bool) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(value)
		if err != nil || len(b) == 0 {
			continue
		}
		if !utf8.Valid(b) || strings.ContainsFunc(string(b), func(r rune) bool { return !unicode.IsPrint(r) && !unicode.IsSpace(r) }) {
			return "", false
		}
		return string(b), true
	}
	return "", false
}

// lockFiles are the lockfiles and checksum files of package managers:
// they list package names and hashes (registry-auth-token, parse-passwd),
// never settings.
var lockFiles = map[string]bool{
	"go.sum": true, "go.work.sum": true, "package-lock.json": true, "npm-shrinkwrap.json": true, "yarn.lock": true,
	"pnpm-lock.yaml": true, "bun.lock": true, "cargo.lock": true, "gemfile.lock": true, "poetry.lock": true,
	"pipfile.lock": true, "composer.lock": true, "mix.lock": true, "pubspec.lock": true, "packages.lock.json": true,
	"gradle.lockfile": true, "flake.lock": true, "uv.lock": true, "podfile.lock": true, "package.resolved": true,
	"checksums.txt": true, "sha256sums": true, "sha512sums": true, "md5sums": true,
}

// isLockFile reports whether a file is a lockfile or a checksum list.
func isLockFile(rel string) bool {
	b := tf.Base(rel)
	return lockFiles[b] || strings.HasSuffix(b, ".lock") || strings.HasSuffix(b, ".sha256") || strings.HasSuffix(b, ".sha512") || strings.HasSuffix(b, ".md5")
}

// devConfig reports whether a config file is a developer's or an example:
// named for development, local use or as an example (config.dev.yaml,
// local.toml, settings.example.json), or in such a directory. Its
// settings are the stand-ins of a local stack far more often than leaks.
func devConfig(rel string) bool {
	parts := strings.Split(strings.ToLower(rel), "/")
	var words []string
	for i, p := range parts {
		if i < len(parts)-1 {
			words = append(words, p)
			continue
		}
		words = append(words, strings.FieldsFunc(p, func(r rune) bool { return r == '.' || r == '-' || r == '_' })...)
	}
	for _, w := range words {
		switch w {
		case "dev", "development", "local", "example", "examples", "sample", "samples", "demo", "template", "dist":
			return true
		}
	}
	return false
}

// pemBody matches a run of base64 in a PEM block's body.
var pemBody = regexp.MustCompile(`[A-Za-z0-9+/=]{16,}`)

// minPEMBody is the fewest base64 characters of a real private key's
// body: an Ed25519 key in PKCS #8, the shortest, takes 64.
const minPEMBody = 64

// pemPlaceholder reports whether the PEM block whose BEGIN marker ends
// where rest starts holds a stand-in: a body elided with "..." or too
// short to be a key (X, a truncated first line).
func pemPlaceholder(rest string) bool {
	end := strings.Index(rest, "-----END")
	if end < 0 {
		end = min(len(rest), 8192)
	}
	body := strings.NewReplacer(`\n`, "\n", `\r`, "\n").Replace(rest[:end])
	if strings.Contains(body, "...") || strings.Contains(body, "…") {
		return true
	}
	n := 0
	for _, run := range pemBody.FindAllString(body, -1) {
		n += len(run)
	}
	return n < minPEMBody
}

// pemExempt reports whether a file's PEM markers are documentation or a
// copy of the source: Markdown, and minified or built JavaScript bundles.
func pemExempt(rel string) bool {
	lower := strings.ToLower(rel)
	switch path.Ext(lower) {
	case ".md", ".markdown", ".mdx":
		return true
	case ".js", ".mjs", ".cjs", ".css", ".map":
		if strings.Contains(lower, ".min.") {
			return true
		}
		for _, d := range strings.Split(path.Dir(lower), "/") {
			if d == "dist" || d == "build" {
				return true
			}
		}
	}
	return false
}

// testKeyDirs are directory names, beyond those tf.OutsideService knows,
// that hold the keys of tests and stubs.
var testKeyDirs = map[string]bool{"testfixtures": true, "stub": true, "stubs": true, "mocks": true, "mock": true}

// testKeyWords are the words of a file name that mark a key as a test's:
// fake.pem, dummy-key.pem, example_rsa.key.
var testKeyWords = map[string]bool{"fake": true, "dummy": true, "example": true, "sample": true, "samples": true, "mock": true, "stub": true}

// testKeyFile reports whether a key file is a test fixture: named for
// tests (test_key.pem, testkey.pem, server_test.pem, test-ca.key, a name
// with the word fake, dummy, example or sample) or in a directory of test
// fixtures or stubs.
func testKeyFile(rel string) bool {
	parts := strings.Split(strings.ToLower(rel), "/")
	for _, d := range parts[:len(parts)-1] {
		if testKeyDirs[d] {
			return true
		}
	}
	for _, w := range strings.FieldsFunc(parts[len(parts)-1], func(r rune) bool {
		return !('a' <= r && r <= 'z' || '0' <= r && r <= '9')
	}) {
		if testKeyWords[w] || strings.HasPrefix(w, "test") || strings.HasSuffix(w, "test") && w != "latest" {
			return true
		}
	}
	return false
}

// checkSecrets runs III3 over every text file. Go test files and test
// directories are left out: their credentials are fakes for the code under
// test far more often than leaks.
func checkSecrets(repo *tf.Repo, c *tf.Collector) {
	for _, f := range repo.Files {
		if isLockFile(f) || strings.HasSuffix(f, "_test.go") || tf.OutsideService(f) {
			continue
		}
		dev := devConfig(f)
		data := string(repo.Read(f))
		var active []int // the patterns with a hint somewhere in the file
		for i, p := range secretPatterns {
			if hinted(data, p.hints) {
				active = append(active, i)
			}
		}
		settings := configFile(f, data)
		if len(active) == 0 && !settings {
			continue
		}
		off := 0
		for i, l := range strings.Split(data, "\n") {
			lineStart := off
			off += len(l) + 1
			if settings {
				if m := secretSetting.FindStringSubmatch(l); m != nil && literalSecret(m[1], m[2]) {
					if dev {
						// Advice: a development config's value is most
						// likely a local stand-in, but worth a look.
						c.Add(tf.Finding{Rule: "III3", File: f, Line: i + 1, Hardening: true,
							Message: fmt.Sprintf("%s is set to a literal value in a development or example config (info: such values are usually local stand-ins; make sure this one is not a real secret)", m[1])})
					} else {
						c.Addf("III3", f, i+1, "%s is set to a literal value in a committed config file", m[1])
					}
				}
			}
			for _, pi := range active {
				p := secretPatterns[pi]
				if p.re == nil || !hinted(l, p.hints) {
					continue
				}
				loc := p.re.FindStringIndex(l)
				if loc == nil {
					continue
				}
				if p.what == "a private key" && (pemExempt(f) || testKeyFile(f) || pemPlaceholder(data[lineStart+loc[1]:])) {
					continue // a PEM marker around a stand-in, in docs or a bundle, or a test fixture
				}
				c.Addf("III3", f, i+1, "this line holds %s", p.what)
			}
			if !strings.Contains(l, "://") || !strings.Contains(l, "@") {
				continue
			}
			for _, m := range credURL.FindAllStringSubmatch(l, -1) {
				if !placeholder(m[1], m[2]) && !localHost(m[3]) {
					c.Addf("III3", f, i+1, "this URL carries a password for %s", m[3])
				}
			}
		}
	}
}

// perDeployConfig matches config files named after a deploy.
var perDeployConfig = regexp.MustCompile(`^(?:(?:config|settings|application|app|appsettings)[._-](?:prod|production|staging|stage|qa|uat|dev|development)\.(?:ya?ml|json|toml|ini|properties|env)|\.env\.(?:prod|production|staging|stage|qa|uat))$`)

// deployConfigDir matches the directories that hold config files.
var deployConfigDir = regexp.MustCompile(`^(config|configs|conf|settings|environments|envs?)$`)

// deployFile matches a config file named after a deploy:
// config/production.yml, configs/staging.json.
var deployFile = regexp.MustCompile(`^(prod|production|staging|stage|qa|uat|dev|development)\.(ya?ml|json|toml|ini|properties|env)$`)

// liveDeploy matches the deploy names that are not a developer's machine:
// a directory with one of them holds config per deploy, not a local
// default.
var liveDeploy = regexp.MustCompile(`^(prod|production|staging|stage|qa|uat)\.`)

// perDeployDirs returns the config directories that hold a file for a
// live deploy.
func perDeployDirs(repo *tf.Repo) map[string]bool {
	dirs := make(map[string]bool)
	for _, f := range repo.Files {
		b := tf.Base(f)
		if deployConfigDir.MatchString(path.Base(path.Dir(f))) && deployFile.MatchString(b) && liveDeploy.MatchString(b) {
			dirs[path.Dir(f)] = true
		}
	}
	return dirs
}

// deployTags are build tags that name a deploy.
var deployTags = map[string]bool{"prod": true, "production": true, "staging": true, "stage": true, "dev": true, "development": true, "qa": true, "uat": true}

// adminClients are database clients that loose admin scripts call.
var adminClients = regexp.MustCompile(`(^|[\s;|&(])(psql|mysql|mongosh|mongo|redis-cli|sqlcmd|cqlsh)\s`)

// checkFiles runs III4, the build-tag half of I2, and XII3.
func checkFiles(repo *tf.Repo, c *tf.Collector) {
	deployDirs := perDeployDirs(repo)
	for _, f := range repo.Files {
		base := path.Base(f)
		if tf.OutsideService(f) {
			continue
		}
		if perDeployConfig.MatchString(strings.ToLower(base)) || (deployDirs[path.Dir(f)] && deployFile.MatchString(tf.Base(f))) {
			c.Addf("III4", f, 0, "%s is config for one deploy", base)
		}
		switch {
		case strings.HasSuffix(f, ".go"):
			for i, l := range lines(repo.Read(f)) {
				if strings.HasPrefix(l, "package ") {
					break
				}
				expr, err := constraint.Parse(l)
				if err != nil {
					continue
				}
				for _, tag := range tags(expr) {
					if deployTags[tag] {
						c.Addf("I2", f, i+1, "build tag %s compiles different code for one deploy", tag)
					}
				}
			}
		case strings.HasSuffix(f, ".sh") || strings.HasSuffix(f, ".bash"):
			if strings.HasPrefix(f, ".ci/") || strings.HasPrefix(f, ".github/") {
				continue // CI scripts are not admin tasks
			}
			for i, l := range lines(repo.Read(f)) {
				if t := strings.TrimSpace(l); strings.HasPrefix(t, "#") {
					continue
				}
				if m := adminClients.FindStringSubmatch(l); m != nil {
					c.Addf("XII3", f, i+1, "%s calls %s directly", base, m[2])
					break
				}
			}
		}
	}
}

// tags returns the tag names in a build constraint.
func tags(e constraint.Expr) []string {
	switch e := e.(type) {
	case *constraint.TagExpr:
		return []string{e.Tag}
	case *constraint.NotExpr:
		return tags(e.X)
	case *constraint.AndExpr:
		return append(tags(e.X), tags(e.Y)...)
	case *constraint.OrExpr:
		return append(tags(e.X), tags(e.Y)...)
	}
	return nil
}
