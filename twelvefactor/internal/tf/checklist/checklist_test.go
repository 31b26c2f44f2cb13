package checklist_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	tf "github.com/dozen-go/dozen/twelvefactor/internal/tf"
	"github.com/dozen-go/dozen/twelvefactor/internal/tf/analyzers"
	"github.com/dozen-go/dozen/twelvefactor/internal/tf/checklist"
	"github.com/dozen-go/dozen/twelvefactor/internal/tf/fixture"
)

// codeFixtures is the analyzers' testdata, reused here as one module so
// that the slow package load happens once for every code rule.
const codeFixtures = "../analyzers/testdata/src"

var (
	codeOnce   sync.Once
	codeReport *tf.Report
	codeErr    error
)

// runCodeFixtures copies the bad, good and suppressed fixtures of every
// code rule into one module and runs the checklist over it, once.
func runCodeFixtures(t *testing.T) *tf.Report {
	t.Helper()
	codeOnce.Do(func() {
		root, err := os.MkdirTemp("", "twelvefactor-code")
		if err != nil {
			codeErr = err
			return
		}
		defer os.RemoveAll(root)
		for _, a := range analyzers.All(analyzers.Options{}) {
			id := strings.ToLower(analyzers.RuleOf(a))
			for _, v := range []string{"bad", "good", "suppressed"} {
				if err := os.CopyFS(filepath.Join(root, id, v), os.DirFS(filepath.Join(codeFixtures, id, v))); err != nil {
					codeErr = err
					return
				}
			}
		}
		// Fixture packages import each other by GOPATH-style paths
		// (iii1/good/config), which the module path "iii1" would break;
		// the module is named so that these imports resolve.
		if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module fixture\n\ngo 1.26.0\n"), 0o644); err != nil {
			codeErr = err
			return
		}
		// The fixtures are library packages and small programs, not one
		// service: every package is judged.
		if err := os.WriteFile(filepath.Join(root, tf.ConfigFile), []byte("programs: [\"...\"]\n"), 0o644); err != nil {
			codeErr = err
			return
		}
		rewriteImports(root)
		codeReport, codeErr = checklist.Run(context.Background(), root, checklist.Options{})
	})
	if codeErr != nil {
		t.Fatal(codeErr)
	}
	return codeReport
}

// fixtureImport matches the start of an import of another fixture package.
var fixtureImport = regexp.MustCompile(`"((?:i|ii|iii|iv|v|vi|vii|viii|ix|x|xi|xii)[0-9]+)/`)

// rewriteImports turns GOPATH-style fixture imports ("iii1/good/config")
// into module imports ("fixture/iii1/good/config").
func rewriteImports(root string) {
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || !strings.HasSuffix(p, ".go") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		b = fixtureImport.ReplaceAll(b, []byte(`"fixture/$1/`))
		return os.WriteFile(p, b, 0o644)
	})
}

// TestCodeRules checks each code rule's findings in the combined module:
// active findings under <rule>/bad, none under <rule>/good, and only
// suppressed ones under <rule>/suppressed.
func TestCodeRules(t *testing.T) {
	rep := runCodeFixtures(t)
	if len(rep.Notes) > 0 {
		t.Fatalf("Run(code fixtures) notes = %q, want none", rep.Notes)
	}
	for _, a := range analyzers.All(analyzers.Options{}) {
		id := analyzers.RuleOf(a)
		t.Run(id, func(t *testing.T) {
			var o tf.Outcome
			for _, out := range rep.Outcomes {
				if out.Rule.ID == id {
					o = out
				}
			}
			count := map[string][2]int{} // variant -> active, suppressed
			for _, f := range o.Findings {
				parts := strings.Split(f.File, "/")
				if parts[0] != strings.ToLower(id) {
					continue // another rule's fixture
				}
				v := parts[1]
				n := count[v]
				if f.Suppressed {
					n[1]++
				} else {
					n[0]++
				}
				count[v] = n
			}
			if count["bad"][0] == 0 {
				t.Errorf("Run: %s/bad has no active %s findings; findings: %+v", strings.ToLower(id), id, o.Findings)
			}
			if count["good"] != [2]int{} {
				t.Errorf("Run: %s/good has %s findings %v, want none; findings: %+v", strings.ToLower(id), id, count["good"], o.Findings)
			}
			if s := count["suppressed"]; s[0] != 0 || s[1] == 0 {
				t.Errorf("Run: %s/suppressed has %d active and %d suppressed %s findings, want 0 and some", strings.ToLower(id), s[0], s[1], id)
			}
		})
	}
}

// outcomeOf returns the outcome of the rule.
func outcomeOf(rep *tf.Report, id string) tf.Outcome {
	for _, o := range rep.Outcomes {
		if o.Rule.ID == id {
			return o
		}
	}
	return tf.Outcome{}
}

// write creates the files, given as path and content pairs, under root.
func write(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRunRepositories checks how whole repositories of unusual shapes are
// treated.
func TestRunRepositories(t *testing.T) {
	tests := []struct {
		name   string
		files  map[string]string
		notes  bool                 // whether a note is expected
		status map[string]tf.Status // expected status by rule
		count  map[string]int       // expected number of findings by rule
	}{
		{
			name: "does not compile",
			files: map[string]string{
				"go.mod":   "module example.com/broken\n\ngo 1.26.0\n",
				"main.go":  "package main\n\nfunc main() { undefined() }\n",
				"Procfile": "web: go run .\n",
			},
			notes:  true,
			status: map[string]tf.Status{"V1": tf.Fail, "IX5": tf.Pass, "III1": tf.Pass},
		},
		{
			name: "code that needs generated files is checked on its syntax",
			files: map[string]string{
				"go.mod": "module example.com/gen\n\ngo 1.26.0\n",
				"main.go": "package main\n\nimport (\n\t\"database/sql\"\n\t\"net/http\"\n\t\"os\"\n\t\"os/signal\"\n\n\t\"example.com/gen/internal/templates\"\n)\n\n" +
					"func main() {\n\tc := make(chan os.Signal, 1)\n\tsignal.Notify(c, os.Interrupt)\n\tdb, _ := sql.Open(\"pgx\", os.Getenv(\"DATABASE_URL\"))\n" +
					"\tdb.Exec(`CREATE TABLE IF NOT EXISTS pages (id INT)`)\n\thttp.Handle(\"/\", templates.Handler())\n\thttp.ListenAndServe(os.Getenv(\"ADDR\"), nil)\n}\n",
			},
			notes:  true,
			status: map[string]tf.Status{"IX1": tf.Fail, "IX2": tf.Warn, "V4": tf.Warn},
		},
		{
			name: "programs no deploy file names are judged as advice",
			files: map[string]string{
				"go.mod":           "module example.com/tools\n\ngo 1.26.0\n",
				"cmd/api/main.go":  "package main\n\nimport (\n\t\"net/http\"\n\t\"os\"\n)\n\nfunc main() { http.ListenAndServe(os.Getenv(\"ADDR\"), nil) }\n",
				"cmd/view/main.go": "package main\n\nimport (\n\t\"flag\"\n\t\"net/http\"\n)\n\nfunc main() {\n\taddr := flag.String(\"http\", \"localhost:6060\", \"\")\n\tflag.Parse()\n\thttp.ListenAndServe(*addr, nil)\n}\n",
			},
			notes:  true,
			status: map[string]tf.Status{"IX2": tf.Note, "IX1": tf.Note},
			count:  map[string]int{"IX2": 2, "IX1": 2},
		},
		{
			name: "a development listener is advice",
			files: map[string]string{
				"go.mod":   "module example.com/devsrv\n\ngo 1.26.0\n",
				"Procfile": "web: devsrv\n",
				"main.go": "package main\n\nimport (\n\t\"context\"\n\t\"flag\"\n\t\"net/http\"\n\t\"os\"\n\t\"os/signal\"\n\t\"syscall\"\n)\n\n" +
					"func main() {\n\tdev := flag.String(\"dev\", \"\", \"\")\n\tflag.Parse()\n\tif *dev != \"\" {\n\t\thttp.ListenAndServe(*dev, nil)\n\t\treturn\n\t}\n" +
					"\tsrv := &http.Server{Addr: os.Getenv(\"ADDR\")}\n\tctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)\n\tdefer stop()\n\tgo srv.ListenAndServe()\n\t<-ctx.Done()\n\tsrv.Shutdown(context.Background())\n}\n",
			},
			status: map[string]tf.Status{"IX2": tf.Note},
			count:  map[string]int{"IX2": 1},
		},
		{
			name: "packages that compile are still checked",
			files: map[string]string{
				"go.mod":       "module example.com/part\n\ngo 1.26.0\n",
				"broken/b.go":  "package broken\n\nfunc F() { undefined() }\n",
				"uses/uses.go": "package uses\n\nimport _ \"example.com/part/broken\"\n",
				"fine/fine.go": "package fine\n\nimport \"os\"\n\nfunc Port() string { return os.Getenv(\"PORT\") }\n",
			},
			notes:  true,
			status: map[string]tf.Status{"III1": tf.Note},
		},
		{
			name:   "not a Go module",
			files:  map[string]string{"README.md": "# hello\n"},
			status: map[string]tf.Status{"I1": tf.Warn, "III1": tf.NotApplicable, "II4": tf.NotApplicable, "V3": tf.NotApplicable},
		},
		{
			name: "generated code is skipped",
			files: map[string]string{
				"go.mod": "module example.com/gen\n\ngo 1.26.0\n",
				"lib/lib.go": "// Code generated by hand-rolled generator. DO NOT EDIT.\n\n" +
					"package lib\n\nimport \"os\"\n\nfunc Port() string { return os.Getenv(\"PORT\") }\n",
			},
			status: map[string]tf.Status{"III1": tf.Pass},
		},
		{
			name: "config changes severities and turns rules off",
			files: map[string]string{
				"go.mod": "module example.com/cfg\n\ngo 1.26.0\n",
				"lib/lib.go": "package lib\n\nimport (\n\t\"fmt\"\n\t\"os\"\n)\n\n" +
					"func Port() string { fmt.Println(\"x\"); return os.Getenv(\"PORT\") }\n",
				"demo/ex.go":         "package demo\n\nimport \"os\"\n\nfunc Port() string { return os.Getenv(\"PORT\") }\n",
				".twelvefactor.yaml": "rules:\n  III1: {severity: error}\n  XI2: {severity: off, reason: a CLI}\nexclude: [demo]\n",
			},
			status: map[string]tf.Status{"III1": tf.Fail, "XI2": tf.Disabled},
			count:  map[string]int{"III1": 1},
		},
		{
			name: "extra config packages may read the environment",
			files: map[string]string{
				"go.mod":                        "module example.com/cfg\n\ngo 1.26.0\n",
				"internal/settings/settings.go": "package settings\n\nimport \"os\"\n\nfunc Port() string { return os.Getenv(\"PORT\") }\n",
				".twelvefactor.yaml":            "config-packages: [internal/settings]\n",
			},
			status: map[string]tf.Status{"III1": tf.Pass},
		},
		{
			name: "dev tools, CLIs and test helpers are not the service",
			files: map[string]string{
				"go.mod":     "module example.com/svc\n\ngo 1.26.0\n",
				"Dockerfile": "FROM golang:1.26 AS build\nCOPY . .\nRUN go build -o /server ./cmd/server\nFROM scratch\nCOPY --from=build /server /server\nUSER 65532\nCMD [\"/server\"]\n",
				"cmd/server/main.go": "package main\n\nimport (\n\t\"context\"\n\t\"net/http\"\n\t\"os/signal\"\n\t\"syscall\"\n\n\t\"example.com/svc/internal/store\"\n)\n\n" +
					"func main() {\n\tctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)\n\tdefer stop()\n\tstore.Save()\n\tsrv := &http.Server{}\n\tgo srv.ListenAndServe()\n\t<-ctx.Done()\n\tsrv.Shutdown(context.Background())\n}\n",
				"internal/store/store.go": "package store\n\nimport \"os\"\n\nfunc Save() { os.WriteFile(\"cache.db\", nil, 0o600) }\n",
				// A seeding tool that writes a file and serves a preview:
				// it listens, but no deploy file builds it.
				"devtools/cmd/seed/main.go":     "package main\n\nimport (\n\t\"net/http\"\n\t\"os\"\n)\n\nfunc main() {\n\tos.WriteFile(\"seed.json\", nil, 0o600)\n\thttp.ListenAndServe(os.Getenv(\"ADDR\"), nil)\n}\n",
				"cmd/keygen/main.go":            "package main\n\nimport \"os\"\n\nfunc main() { os.WriteFile(\"key.pem\", nil, 0o600) }\n",
				"internal/dockertest/docker.go": "package dockertest\n\nimport \"os/exec\"\n\nfunc Up() error { return exec.Command(\"docker\", \"compose\", \"up\").Run() }\n",
			},
			notes:  true,
			status: map[string]tf.Status{"VI1": tf.Warn, "II3": tf.Pass, "IX2": tf.Pass, "IX1": tf.Pass},
			count:  map[string]int{"VI1": 1},
		},
		{
			name: "a helper package shuts the server down",
			files: map[string]string{
				"go.mod": "module example.com/svc\n\ngo 1.26.0\n",
				"cmd/server/main.go": "package main\n\nimport (\n\t\"example.com/svc/internal/lifecycle\"\n\t\"example.com/svc/internal/web\"\n)\n\n" +
					"func main() {\n\tsrv := web.Start()\n\tlifecycle.StopOnSignal(srv)\n}\n",
				"internal/web/web.go": "package web\n\nimport \"net/http\"\n\nfunc Start() *http.Server {\n\tsrv := &http.Server{Addr: \"\"}\n\tgo srv.ListenAndServe()\n\treturn srv\n}\n",
				"internal/lifecycle/lifecycle.go": "package lifecycle\n\nimport (\n\t\"context\"\n\t\"net/http\"\n\t\"os\"\n\t\"os/signal\"\n\t\"syscall\"\n)\n\n" +
					"func StopOnSignal(srv *http.Server) {\n\tc := make(chan os.Signal, 1)\n\tsignal.Notify(c, syscall.SIGTERM)\n\t<-c\n\tsrv.Shutdown(context.Background())\n}\n",
			},
			status: map[string]tf.Status{"IX2": tf.Pass, "IX1": tf.Pass},
		},
		{
			name: "a repository of samples checks every module",
			files: map[string]string{
				"a/go.mod":  "module example.com/a\n\ngo 1.26.0\n",
				"a/main.go": "package main\n\nimport (\n\t\"net/http\"\n\t\"os\"\n)\n\nfunc main() {\n\tos.WriteFile(\"a.db\", nil, 0o600)\n\thttp.ListenAndServe(os.Getenv(\"ADDR\"), nil)\n}\n",
				"b/go.mod":  "module example.com/b\n\ngo 1.26.0\n",
				"b/main.go": "package main\n\nimport (\n\t\"net/http\"\n\t\"os\"\n)\n\nfunc main() {\n\tos.WriteFile(\"b.db\", nil, 0o600)\n\thttp.ListenAndServe(os.Getenv(\"ADDR\"), nil)\n}\n",
			},
			status: map[string]tf.Status{"I1": tf.Pass, "VI1": tf.Warn},
			count:  map[string]int{"VI1": 2, "IX2": 2},
		},
		{
			name: "files behind the build tags the Dockerfile uses are loaded",
			files: map[string]string{
				"go.mod":                "module example.com/svc\n\ngo 1.26.0\n",
				"Dockerfile":            "FROM golang:1.26 AS build\nCOPY . .\nRUN go build -tags migrate -o /server ./cmd/server\nFROM scratch\nCOPY --from=build /server /server\nUSER 65532\nCMD [\"/server\"]\n",
				"cmd/server/main.go":    "package main\n\nimport (\n\t\"net/http\"\n\t\"os\"\n)\n\nfunc main() { http.ListenAndServe(os.Getenv(\"ADDR\"), nil) }\n",
				"cmd/server/migrate.go": "//go:build migrate\n\npackage main\n\nimport \"os\"\n\nfunc init() { os.WriteFile(\"migrated\", nil, 0o600) }\n",
			},
			status: map[string]tf.Status{"VI1": tf.Warn},
			count:  map[string]int{"VI1": 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			write(t, root, tt.files)
			rep, err := checklist.Run(context.Background(), root, checklist.Options{})
			if err != nil {
				t.Fatalf("Run() error = %v", err)
			}
			if got := len(rep.Notes) > 0; got != tt.notes {
				t.Errorf("Run() notes = %q, want notes: %v", rep.Notes, tt.notes)
			}
			for id, want := range tt.count {
				if got := len(outcomeOf(rep, id).Findings); got != want {
					t.Errorf("Run() found %d %s findings (%+v), want %d", got, id, outcomeOf(rep, id).Findings, want)
				}
			}
			for id, want := range tt.status {
				if got := outcomeOf(rep, id); got.Status != want {
					t.Errorf("Run() status of %s = %s (%+v), want %s", id, got.Status, got.Findings, want)
				}
			}
		})
	}
}

// TestRunErrors checks that unreadable input is an error, not a report.
func TestRunErrors(t *testing.T) {
	bad := t.TempDir()
	write(t, bad, map[string]string{".twelvefactor.yaml": "rules:\n  NOPE1: {severity: error}\n"})
	tests := []struct {
		name, dir string
	}{
		{"missing directory", filepath.Join(t.TempDir(), "missing")},
		{"unknown rule in config", bad},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := checklist.Run(context.Background(), tt.dir, checklist.Options{}); err == nil {
				t.Errorf("Run(%s) error = nil, want an error", tt.name)
			}
		})
	}
}

// TestDozenShape runs the checklist over a repository laid out like the
// dozen template (Heroku and Kubernetes files, three processes, embedded
// migrations) and expects no errors and no warnings: the template must pass
// its own checklist.
func TestDozenShape(t *testing.T) {
	root := fixture.Copy(t, filepath.Join("testdata", "dozen"))
	rep, err := checklist.Run(context.Background(), root, checklist.Options{})
	if err != nil {
		t.Fatalf("Run(dozen) error = %v", err)
	}
	if len(rep.Notes) > 0 {
		t.Errorf("Run(dozen) notes = %q, want none", rep.Notes)
	}
	for _, o := range rep.Outcomes {
		if o.Status != tf.Pass {
			t.Errorf("Run(dozen) %s = %s (%s) %+v, want pass", o.Rule.ID, o.Status, o.Reason, o.Findings)
		}
	}
}

// TestGitAbove checks that a service in a directory of a larger git
// checkout is under version control.
func TestGitAbove(t *testing.T) {
	root := t.TempDir()
	write(t, root, map[string]string{
		".git/HEAD":  "ref: refs/heads/main\n",
		"svc/go.mod": "module example.com/svc\n\ngo 1.26.0\n",
	})
	rep, err := checklist.Run(context.Background(), filepath.Join(root, "svc"), checklist.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := outcomeOf(rep, "I3"); got.Status != tf.Pass {
		t.Errorf("I3 = %s %+v, want pass: .git is one directory up", got.Status, got.Findings)
	}
}
