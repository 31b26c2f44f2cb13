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

// ciGoImage matches a Go toolchain image in a CI file: golang:1.26,
// cimg/go:1.26, circleci/golang:1.26.
var ciGoImage = regexp.MustCompile(`\b(?:golang|cimg/go|circleci/golang):(1\.[0-9]+)`)

// travisGo matches Travis CI's go: 1.26.
var travisGo = regexp.MustCompile(`^\s*go:\s*["']?(1\.[0-9]+)`)

// isCI reports whether a file configures a CI system: GitHub Actions,
// GitLab, CircleCI, Travis, Drone, Woodpecker, Bitbucket, Azure
// Pipelines, Cloud Build, Buildkite or Jenkins.
func isCI(rel string) bool {
	b := tf.Base(rel)
	yml := path.Ext(rel) == ".yml" || path.Ext(rel) == ".yaml"
	switch {
	case strings.HasPrefix(rel, ".github/workflows/") && yml,
		strings.HasPrefix(rel, ".circleci/") && yml,
		strings.HasPrefix(rel, ".woodpecker") && yml,
		strings.HasPrefix(rel, ".buildkite/") && yml:
		return true
	}
	switch b {
	case ".gitlab-ci.yml", ".travis.yml", ".drone.yml", "bitbucket-pipelines.yml", "azure-pipelines.yml", "cloudbuild.yaml", "cloudbuild.yml", "jenkinsfile":
		return true
	}
	return false
}

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
	for _, f := range repo.Match(isCI) {
		for i, l := range lines(repo.Read(f)) {
			if strings.HasPrefix(strings.TrimSpace(l), "#") {
				continue
			}
			if m := ciGoVersion.FindStringSubmatch(l); m != nil {
				check(f, i+1, "go-version "+m[1], m[1])
			}
			if m := ciGoImage.FindStringSubmatch(l); m != nil {
				check(f, i+1, "image "+m[0], m[1])
			}
			if m := travisGo.FindStringSubmatch(l); m != nil && tf.Base(f) == ".travis.yml" {
				check(f, i+1, "go: "+m[1], m[1])
			}
		}
	}
	if others == 0 {
		c.NotApplicable("go.mod is the only place that names a Go version", "X1")
	}
}
