package filerules_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	tf "github.com/dozen-go/dozen/twelvefactor/internal/tf"
	"github.com/dozen-go/dozen/twelvefactor/internal/tf/filerules"
)

// TestThirdPartyImages checks that a local stack of other people's images
// (Grafana, a dev Postgres) draws no manifest findings, while the image
// the repository builds still does.
func TestThirdPartyImages(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"go.mod.txt": "module example.com/shortener\n\ngo 1.26.0\n",
		"deploy/dev/grafana.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: grafana}
spec:
  template:
    spec:
      containers:
        - name: grafana
          image: grafana/grafana:latest
          ports: [{containerPort: 3000}]
          envFrom: [{configMapRef: {name: grafana-env}}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: grafana-env}
data:
  GF_SECURITY_ADMIN_PASSWORD: admin
`,
		"deploy/app.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: shortener}
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: shortener
          image: ghcr.io/acme/shortener:latest
          ports: [{containerPort: 8080}]
`,
	}
	for name, content := range files {
		p := filepath.Join(dir, "repo", filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rep := check(t, filepath.Join(dir, "repo"))
	for id, want := range map[string]int{"V3": 1, "IX4": 1, "III5": 0, "III2": 0, "VI3": 1} {
		o := outcome(t, rep, id)
		if active, _ := o.Counts(); active != want {
			t.Errorf("%s: %d findings, want %d (only the shortener's):\n%s", id, active, want, render(o))
		}
		for _, f := range o.Findings {
			if f.File != "deploy/app.yaml" {
				t.Errorf("%s reports on someone else's image: %s: %s", id, f.Location(), f.Message)
			}
		}
	}
	if o := outcome(t, rep, "IX4"); o.Status != tf.Warn {
		t.Errorf("IX4 = %s, want warn: the shortener has no readiness probe", o.Status)
	}
}

// TestScopeDeployFiles checks which programs are the service when deploy
// files of many kinds name them, when each module of a samples
// repository has its own Dockerfile, and when nothing tells the service
// apart from tools that serve too.
func TestScopeDeployFiles(t *testing.T) {
	const serve = "package main\n\nimport (\n\t\"net/http\"\n\t\"os\"\n)\n\nfunc main() { http.ListenAndServe(os.Getenv(\"ADDR\"), nil) }\n"
	const gomod = "module example.com/svc\n\ngo 1.26.0\n"
	two := func(extra map[string]string) map[string]string {
		files := map[string]string{"go.mod": gomod, "cmd/api/main.go": serve, "cmd/docs/main.go": serve}
		for k, v := range extra {
			files[k] = v
		}
		return files
	}
	tests := []struct {
		name               string
		files              map[string]string
		mains, unconfirmed []string
	}{
		{"App Engine app.yaml", two(map[string]string{"app.yaml": "runtime: go123\nmain: ./cmd/api\n"}), []string{"cmd/api"}, nil},
		{"App Engine app.yaml beside the main", two(map[string]string{"cmd/api/app.yaml": "runtime: go123\n"}), []string{"cmd/api"}, nil},
		{"ko config", two(map[string]string{".ko.yaml": "builds:\n  - id: api\n    main: ./cmd/api\n"}), []string{"cmd/api"}, nil},
		{"Cloud Build", two(map[string]string{"cloudbuild.yaml": "steps:\n  - name: gcr.io/cloud-builders/docker\n    args: [build, -t, gcr.io/p/api, -f, cmd/api/Dockerfile, .]\n"}), []string{"cmd/api"}, nil},
		{"Cloud Run service", two(map[string]string{"deploy/service.yaml": "apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers:\n        - image: europe-docker.pkg.dev/p/r/api:1.0\n"}), []string{"cmd/api"}, nil},
		{"fly.toml", two(map[string]string{"fly.toml": "app = \"shop\"\n[processes]\n  web = \"/usr/local/bin/api\"\n"}), []string{"cmd/api"}, nil},
		{"Helm chart", two(map[string]string{"charts/shop/Chart.yaml": "name: shop\n", "charts/shop/values.yaml": "image:\n  repository: ghcr.io/acme/api\n  tag: 1.0.0\n"}), []string{"cmd/api"}, nil},
		{"systemd unit", two(map[string]string{"dist/api.service": "[Service]\nExecStart=/usr/bin/api --config /etc/api.yaml\n"}), []string{"cmd/api"}, nil},
		{"Makefile docker build target", two(map[string]string{"Makefile": "image:\n\tdocker build -t acme/api -f build/Dockerfile .\nlint:\n\tgo run ./cmd/docs\n"}), []string{"cmd/api"}, nil},
		{"nothing names a program", two(nil), []string{"cmd/api", "cmd/docs"}, []string{"cmd/api", "cmd/docs"}},
		{
			"samples with their own Dockerfiles",
			map[string]string{
				"compose.yaml":                 "services:\n  a:\n    build: ./samples/a\n",
				"samples/a/go.mod":             "module example.com/a\n\ngo 1.26.0\n",
				"samples/a/main.go":            serve,
				"samples/a/Dockerfile":         "FROM golang:1.26 AS build\nWORKDIR /src\nCOPY . .\nRUN go build -o /app .\nFROM scratch\nCOPY --from=build /app /app\nUSER 65532\nCMD [\"/app\"]\n",
				"samples/b/go.mod":             "module example.com/b\n\ngo 1.26.0\n",
				"samples/b/cmd/server/main.go": serve,
				"samples/b/Dockerfile":         "FROM golang:1.26 AS build\nWORKDIR /src\nCOPY . .\nRUN go build -o /app ./cmd/server\nFROM scratch\nCOPY --from=build /app /app\nUSER 65532\nCMD [\"/app\"]\n",
				"samples/c/go.mod":             "module example.com/c\n\ngo 1.26.0\n",
				"samples/c/main.go":            serve,
				"samples/c/Dockerfile":         "FROM golang:1.26 AS build\nWORKDIR /src\nCOPY . .\nRUN CGO_ENABLED=0 go build -trimpath -o /app\nFROM scratch\nCOPY --from=build /app /app\nUSER 65532\nCMD [\"/app\"]\n",
			},
			[]string{"samples/a", "samples/b/cmd/server", "samples/c"}, nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for name, content := range tt.files {
				p := filepath.Join(root, filepath.FromSlash(name))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			repo, err := tf.OpenRepo(root)
			if err != nil {
				t.Fatal(err)
			}
			scope := filerules.Check(repo, &tf.Collector{})
			if !slices.Equal(scope.Mains, tt.mains) || !slices.Equal(scope.Unconfirmed(), tt.unconfirmed) {
				t.Errorf("Mains = %v, Unconfirmed = %v; want %v and %v", scope.Mains, scope.Unconfirmed(), tt.mains, tt.unconfirmed)
			}
		})
	}
}
