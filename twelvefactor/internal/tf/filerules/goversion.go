package filerules

import (
	"path"
	"regexp"
	"strings"

	tf "github.com/dozen-go/dozen/twelvefactor/internal/tf"
)

// minorVersion returns "1.26" for "1.26.3", "go1.26", "1.26-alpine" and so
// on, or "" when the text does not start with a Go version.
var minorVersion = regexp.MustCompile(`^(?:go)?(1\.[0-9]+)(?:[.\-rc]|$)`)

// ciGoVersion matches go-version: in a GitHub Actions workflow.
var ciGoVersion = regexp.MustCompile(`go-version:\s*['"]?([0-9][0-9.x]*)`)

// checkGoVersion runs X1.
func checkGoVersion(repo *tf.Repo, c *tf.Collector, mod *modInfo, docker []*dockerfile) {
	if mod == nil || mod.Go == "" {
		c.NotApplicable("no go directive", "X1")
		return
	}
	want := minorVersion.FindStringSubmatch(mod.Go)
	if want == nil {
		return
	}
	others := 0
	check := func(file string, line int, what, version string) {
		m := minorVersion.FindStringSubmatch(version)
		if m == nil {
			return
		}
		others++
		if m[1] != want[1] {
			c.Addf("X1", file, line, "%s uses Go %s but go.mod says go %s", what, m[1], mod.Go)
		}
	}
	if mod.HerokuGo != "" {
		check("go.mod", mod.HerokuGoLine, "+heroku goVersion", mod.HerokuGo)
	}
	for _, d := range docker {
		for _, s := range d.Stages {
			if isToolchain(s.Base) {
				_, tag, _ := imageRef(s.Base)
				check(d.Path, s.Line, "FROM "+s.Base, tag)
			}
		}
	}
	for _, f := range repo.Match(func(rel string) bool {
		return strings.HasPrefix(rel, ".github/workflows/") && (path.Ext(rel) == ".yml" || path.Ext(rel) == ".yaml")
	}) {
		for i, l := range lines(repo.Read(f)) {
			if m := ciGoVersion.FindStringSubmatch(l); m != nil {
				check(f, i+1, "go-version "+m[1], m[1])
			}
		}
	}
	if others == 0 {
		c.NotApplicable("go.mod is the only place that names a Go version", "X1")
	}
}
