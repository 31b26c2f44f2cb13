package filerules

import (
	"go/build/constraint"
	"net"
	"path"
	"regexp"
	"strings"

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

// credURL matches scheme://user:password@host.
var credURL = regexp.MustCompile(`\b[a-z][a-z0-9+.-]*://([^\s:/@'"]+):([^\s/@'"]+)@([^\s/:'"?#]+)`)

// placeholder reports whether a password is a stand-in, not a secret.
func placeholder(user, pass string) bool {
	p := strings.ToLower(pass)
	if pass == user || strings.ContainsAny(pass, "$<>{}*%") {
		return true
	}
	for _, w := range []string{"pass", "secret", "change", "replace", "your", "example", "xxx", "dummy", "test", "redacted", "..."} {
		if strings.Contains(p, w) {
			return true
		}
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
	for _, suf := range []string{".local", ".localhost", ".test", ".example", ".invalid", ".internal", "example.com", "example.org", "example.net"} {
		if strings.HasSuffix(h, suf) {
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
		if path.Base(f) == "go.sum" || strings.HasSuffix(f, "_test.go") || tf.OutsideService(f) {
			continue
		}
		data := string(repo.Read(f))
		var active []int // the patterns with a hint somewhere in the file
		for i, p := range secretPatterns {
			if hinted(data, p.hints) {
				active = append(active, i)
			}
		}
		if len(active) == 0 {
			continue
		}
		for i, l := range strings.Split(data, "\n") {
			for _, pi := range active {
				p := secretPatterns[pi]
				if p.re != nil && hinted(l, p.hints) && p.re.MatchString(l) {
					c.Addf("III3", f, i+1, "this line holds %s", p.what)
				}
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

// deployTags are build tags that name a deploy.
var deployTags = map[string]bool{"prod": true, "production": true, "staging": true, "stage": true, "dev": true, "development": true, "qa": true, "uat": true}

// adminClients are database clients that loose admin scripts call.
var adminClients = regexp.MustCompile(`(^|[\s;|&(])(psql|mysql|mongosh|mongo|redis-cli|sqlcmd|cqlsh)\s`)

// checkFiles runs III4, the build-tag half of I2, and XII3.
func checkFiles(repo *tf.Repo, c *tf.Collector) {
	for _, f := range repo.Files {
		base := path.Base(f)
		if perDeployConfig.MatchString(strings.ToLower(base)) {
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
