package filerules_test

import (
	"fmt"
	"strings"
	"testing"
)

// findingsOf runs the file rules over the files and lists the findings of
// the rules as "RULE severity file:line".
func findingsOf(t *testing.T, files map[string]string, rules ...string) []string {
	t.Helper()
	rep := checkFiles(t, files)
	var got []string
	for _, id := range rules {
		for _, f := range outcome(t, rep, id).Findings {
			got = append(got, fmt.Sprintf("%s %s %s:%d", id, f.Severity, f.File, f.Line))
		}
	}
	return sorted(got)
}

// wantFindings fails the test when got and want differ.
func wantFindings(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(sorted(want), "\n") {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(sorted(want), "\n"))
	}
}

// envConfig returns a Go file whose config struct reads the names, with
// caarlos0/env tags.
func envConfig(names []string) string {
	var b strings.Builder
	b.WriteString("package main\n\nimport \"net/http\"\n\ntype config struct {\n")
	for i, n := range names {
		fmt.Fprintf(&b, "\tF%d string `env:\"%s\"`\n", i, n)
	}
	b.WriteString("}\n\nfunc main() { http.ListenAndServe(\"\", nil) }\n")
	return b.String()
}

// TestStarterEnvExample checks III2 on an example env file that is a
// starter (a few settings a deploy must set, or a pointer to the full
// list elsewhere): one info finding sums up what it leaves out. A
// complete-looking file that misses a variable keeps its warning.
func TestStarterEnvExample(t *testing.T) {
	var names []string
	for i := range 40 {
		names = append(names, fmt.Sprintf("SETTING_%02d", i))
	}
	const gomod = "module example.com/svc\n\ngo 1.26.0\n"
	t.Run("few listed", func(t *testing.T) {
		got := findingsOf(t, map[string]string{
			"go.mod":       gomod,
			"config.go":    envConfig(names),
			".env.example": "SETTING_00=a\nSETTING_01=b\nSETTING_02=c\nNOT_READ=d\n",
			".gitignore":   ".env\n",
		}, "III2")
		wantFindings(t, got, "III2 info .env.example:0", "III2 warning .env.example:4")
	})
	for _, header := range []string{"# The full list of settings: https://docs.example.org/configuration\n", "# Only what a deploy must set.\n# See the docs for every option.\n\n"} {
		t.Run("points at the docs", func(t *testing.T) {
			example := header
			for _, n := range names[:30] {
				example += n + "=x\n"
			}
			got := findingsOf(t, map[string]string{
				"go.mod":       gomod,
				"config.go":    envConfig(names),
				".env.example": example,
				".gitignore":   ".env\n",
			}, "III2")
			wantFindings(t, got, "III2 info .env.example:0")
		})
	}
	t.Run("complete-looking", func(t *testing.T) {
		example := "# Get an API key at https://dashboard.example.org/keys\n"
		for _, n := range names[:38] {
			example += n + "=x\n# see the docs: https://example.org/configuration\n"
		}
		got := findingsOf(t, map[string]string{
			"go.mod":       gomod,
			"config.go":    envConfig(names),
			".env.example": example,
			".gitignore":   ".env\n",
		}, "III2")
		wantFindings(t, got, "III2 warning config.go:44", "III2 warning config.go:45")
	})
}

// TestTranslationCatalogs checks that III3 leaves out translation
// catalogs, by directory (messages/, locales/) or by a file name that is
// a language or locale code, and still reports a secret in a config file.
func TestTranslationCatalogs(t *testing.T) {
	const catalog = "{\n  \"api_key\": \"API-Schlüssel\",\n  \"smtp_password\": \"SMTP-Kennwort\",\n  \"client_secret\": \"Client-Geheimnis\"\n}\n"
	got := findingsOf(t, map[string]string{
		"frontend/messages/da.json":       catalog,
		"frontend/messages/settings.json": catalog,
		"web/static/pt-BR.json":           catalog,
		"web/static/zh-Hans.json":         catalog,
		"assets/en_US.yaml":               "api_key: API-Schlüssel\n",
		"config/prod.yaml":                "db_password: hunter2\n",
		"config/db.yaml":                  "api_key: Zk-39fQp1x\n",
	}, "III3")
	wantFindings(t, got, "III3 error config/db.yaml:1", "III3 error config/prod.yaml:1")
}

// TestGolangMigrateNames checks XII2 against golang-migrate's own parser:
// a title may hold dots (passkey..up.sql), and an up migration without a
// down runs, so it is info; a down without an up stays an error.
func TestGolangMigrateNames(t *testing.T) {
	got := findingsOf(t, map[string]string{
		"go.mod": "module example.com/svc\n\ngo 1.26.0\n\nrequire github.com/golang-migrate/migrate/v4 v4.19.0\n",
		"db/migrations/20240101000000_init.up.sql":            "create table t (id int);\n",
		"db/migrations/20240813211251_backup_flags..up.sql":   "alter table t add b bool;\n",
		"db/migrations/20240813211251_backup_flags..down.sql": "alter table t drop b;\n",
		"db/migrations/20240901000000_v1.2_rename.up.sql":     "alter table t rename to u;\n",
		"db/migrations/20240901000000_v1.2_rename.down.sql":   "alter table u rename to t;\n",
		"db/migrations/20241001000000_only_down.down.sql":     "drop table v;\n",
		"db/migrations/README.sql":                            "-- notes\n",
		"db/migrations/embed.go":                              "package migrations\n\nimport \"embed\"\n\n//go:embed *.sql\nvar FS embed.FS\n",
	}, "XII2")
	wantFindings(t, got,
		"XII2 info db/migrations/20240101000000_init.up.sql:0",
		"XII2 error db/migrations/20241001000000_only_down.down.sql:0",
		"XII2 error db/migrations/README.sql:0")
}

// TestTestHarnessImages checks that images of test harnesses, by the tool
// they run or by a directory named for tests, are left out of the
// runtime-image rules, while the service's own start script is still
// held to them.
func TestTestHarnessImages(t *testing.T) {
	const wait = "#!/bin/sh\nuntil nc -z api 8080; do sleep 1; done\n"
	files := map[string]string{
		"go.mod":  "module example.com/svc\n\ngo 1.26.0\n",
		"main.go": "package main\n\nimport \"net/http\"\n\nfunc main() { http.ListenAndServe(\"\", nil) }\n",
		// A directory named for the contract tester.
		"deployment/docker/dredd/Dockerfile": "FROM golang:1.26\nRUN go build -o /api ./cmd/api\nCOPY entrypoint /entrypoint\nENTRYPOINT [\"/entrypoint\"]\n",
		"deployment/docker/dredd/entrypoint": wait + "dredd $@\n",
		// A directory named for smoke tests.
		"deploy/smoke/Dockerfile": "FROM golang:1.26\nRUN go build -o /probe ./cmd/probe\nCMD [\"/probe\"]\n",
		// The tool, in the start script of a neutral directory.
		"deploy/contract/Dockerfile": "FROM golang:1.26\nRUN go build -o /api ./cmd/api\nCOPY run.sh /run.sh\nENTRYPOINT [\"/run.sh\"]\n",
		"deploy/contract/run.sh":     wait + "newman run collection.json\n",
		"deploy/load/Dockerfile":     "FROM grafana/k6:0.54.0\nCOPY script.js /script.js\nCMD [\"run\", \"/script.js\"]\n",
		"deploy/browser/Dockerfile":  "FROM golang:1.26\nRUN go build -o /api ./cmd/api\nCMD npx playwright test\n",
		"Dockerfile":                 "FROM golang:1.26 AS build\nCOPY . /src\nRUN go build -o /svc /src\nFROM debian:13\nCOPY --from=build /svc /svc\nCOPY start.sh /start.sh\nUSER 65532\nCMD [\"/start.sh\"]\n",
		"start.sh":                   "#!/bin/sh\n/svc\n",
	}
	got := findingsOf(t, files, "IX1", "V1", "V2", "V5")
	wantFindings(t, got, "IX1 error start.sh:2")
	notes := strings.Join(checkFiles(t, files).Notes, "\n")
	for _, want := range []string{"skip deploy/contract/Dockerfile: it runs newman", "skip deploy/load/Dockerfile: it runs k6"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes do not say %q:\n%s", want, notes)
		}
	}
}
