package filerules

import (
	"path"
	"regexp"
	"strings"

	tf "github.com/dozen-go/dozen/twelvefactor/internal/tf"
)

// testTools matches the programs of test harnesses: API contract testers,
// load generators and browser test runners. An image that runs one tests
// the service; it does not run it.
var testTools = regexp.MustCompile(`(?:^|[\s/;&|"'\[,])(dredd|newman|k6|locust|jmeter|cypress|playwright|schemathesis|hurl|venom)(?:$|[\s/:;&|"'\],])`)

// testHarness returns the test tool that a Dockerfile runs, or "": named
// in the Dockerfile itself (its base image, what it installs, what it
// starts) or in the start script its CMD or ENTRYPOINT runs.
func testHarness(repo *tf.Repo, rel string, data []byte) string {
	var starts []string
	for _, l := range lines(data) {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		if m := testTools.FindStringSubmatch(t); m != nil {
			return m[1]
		}
		if f := strings.Fields(t); strings.EqualFold(f[0], "cmd") || strings.EqualFold(f[0], "entrypoint") {
			starts = append(starts, t[len(f[0]):])
		}
	}
	for _, s := range starts {
		for _, tok := range deployToken.FindAllString(s, -1) {
			base := path.Base(tok)
			if !strings.HasSuffix(base, ".sh") && !scriptNames[base] {
				continue
			}
			script := findScript(repo, path.Dir(rel), base)
			if script == "" {
				continue
			}
			for _, l := range lines(repo.Read(script)) {
				if t := strings.TrimSpace(l); !strings.HasPrefix(t, "#") {
					if m := testTools.FindStringSubmatch(t); m != nil {
						return m[1]
					}
				}
			}
		}
	}
	return ""
}
