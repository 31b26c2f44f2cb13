package filerules_test

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	tf "github.com/dozen-go/dozen/twelvefactor/internal/tf"
	"github.com/dozen-go/dozen/twelvefactor/internal/tf/filerules"
)

// checkFiles runs the file rules over a repository made of the files.
func checkFiles(t *testing.T, files map[string]string) *tf.Report {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
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
	c := &tf.Collector{}
	filerules.Check(repo, c)
	return tf.BuildReport(c, nil, nil, nil)
}

// fakeKeyBody stands for a private key's body: base64 of a real key's
// length, not a key.
var fakeKeyBody = strings.Repeat("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo", 4)

// TestFileCases checks the file rules on the false alarms and misses that
// real repositories showed: each case names the findings it expects, as
// "RULE file:line" (line 0 for a whole file), and no others of those
// rules.
func TestFileCases(t *testing.T) {
	const gomod = "module example.com/svc\n\ngo 1.26.0\n"
	const serve = "package main\n\nimport \"net/http\"\n\nfunc main() { http.ListenAndServe(\"\", nil) }\n"
	tests := []struct {
		name  string
		files map[string]string
		rules []string
		want  []string
	}{
		{
			name: "migrations copied from the build stage ship",
			files: map[string]string{
				"go.mod":                          gomod,
				"migrations/000001_init.up.sql":   "create table t (id int);\n",
				"migrations/000001_init.down.sql": "drop table t;\n",
				"Dockerfile":                      "FROM golang:1.26 AS build\nWORKDIR /app\nCOPY . .\nRUN go build -o /app/server .\nFROM scratch\nCOPY --from=build /app/server /server\nCOPY --from=build /app/migrations /migrations\nUSER 65532\nCMD [\"/server\"]\n",
			},
			rules: []string{"XII1"},
		},
		{
			name: "migrations shipped inside the build tree the final stage copies",
			files: map[string]string{
				"go.mod":                      gomod,
				"db/store/migrations/1_a.sql": "create table t (id int);\n",
				"Dockerfile":                  "FROM golang:1.26 AS compile\nWORKDIR /go/src/example\nWORKDIR svc\nCOPY . .\nRUN go build -o server .\nFROM debian:12-slim\nWORKDIR /srv\nCOPY --from=compile /go/src/example/svc/ ./\nUSER 65532\nCMD [\"/srv/server\"]\n",
			},
			rules: []string{"XII1"},
		},
		{
			name: "migrations shipped inside a parent directory the final stage copies",
			files: map[string]string{
				"go.mod":                      gomod,
				"db/store/migrations/1_a.sql": "create table t (id int);\n",
				"Dockerfile":                  "FROM golang:1.26 AS compile\nCOPY db /opt/db\nRUN go build -o /server .\nFROM scratch\nCOPY --from=compile /opt /opt\nCMD [\"/server\"]\n",
			},
			rules: []string{"XII1"},
		},
		{
			name: "a build tree's other directory does not ship the migrations",
			files: map[string]string{
				"go.mod":                      gomod,
				"db/store/migrations/1_a.sql": "create table t (id int);\n",
				"Dockerfile":                  "FROM golang:1.26 AS compile\nWORKDIR /src\nCOPY . .\nRUN go build -o /src/bin/server .\nFROM scratch\nCOPY --from=compile /src/bin /bin\nCMD [\"/bin/server\"]\n",
			},
			rules: []string{"XII1"},
			want:  []string{"XII1 db/store/migrations:0"},
		},
		{
			name: "config per deploy in a config directory",
			files: map[string]string{
				"config/production.yml":  "port: 8080\n",
				"config/development.yml": "port: 8080\n",
				"config/default.yml":     "port: 8080\n",
				"configs/dev.yaml":       "port: 8080\n", // a local default alone
			},
			rules: []string{"III4"},
			want:  []string{"III4 config/development.yml:0", "III4 config/production.yml:0"},
		},
		{
			name: "Go versions in GitLab, CircleCI and Travis",
			files: map[string]string{
				"go.mod":               gomod,
				".gitlab-ci.yml":       "test:\n  image: golang:1.25\n",
				".circleci/config.yml": "jobs:\n  build:\n    docker:\n      - image: cimg/go:1.26\n",
				".travis.yml":          "language: go\ngo: 1.24\n",
			},
			rules: []string{"X1"},
			want:  []string{"X1 .gitlab-ci.yml:2", "X1 .travis.yml:2"},
		},
		{
			name: "goose migrations are held to goose's naming",
			files: map[string]string{
				"go.mod":                       gomod + "\nrequire github.com/pressly/goose/v3 v3.26.0\n",
				"db/migrations/00001_init.sql": "-- +goose Up\ncreate table t (id int);\n",
				"db/migrations/00002_a.sql":    "-- +goose Up\ncreate table u (id int);\n",
				"db/migrations/00002_b.sql":    "-- +goose Up\ncreate table v (id int);\n",
				"db/migrations/00003_more.sql": "create table w (id int);\n",
				"db/migrations/add_index.sql":  "-- +goose Up\ncreate index i on t (id);\n",
				"db/migrations/embed.go":       "package migrations\n\nimport \"embed\"\n\n//go:embed *.sql\nvar FS embed.FS\n",
			},
			rules: []string{"XII2"},
			want:  []string{"XII2 db/migrations/00002_b.sql:0", "XII2 db/migrations/00003_more.sql:0", "XII2 db/migrations/add_index.sql:0"},
		},
		{
			name: "a start script that logs to a file, migrates and forgets exec",
			files: map[string]string{
				"go.mod":               gomod,
				"main.go":              serve,
				"Dockerfile":           "FROM golang:1.26 AS build\nCOPY . .\nRUN go build -o /server .\nFROM alpine:3.22\nCOPY --from=build /server /server\nCOPY docker/entrypoint.sh /entrypoint.sh\nUSER 65532\nENTRYPOINT [\"/entrypoint.sh\"]\n",
				"docker/entrypoint.sh": "#!/bin/sh\nset -e\n# migrate first\nmigrate -path /migrations -database \"$DATABASE_URL\" up\n/server >> /var/log/server.log 2>&1\n",
			},
			rules: []string{"XI1", "V4", "IX1"},
			want:  []string{"XI1 docker/entrypoint.sh:5", "V4 docker/entrypoint.sh:4", "IX1 docker/entrypoint.sh:5"},
		},
		{
			name: "a start script that execs the server",
			files: map[string]string{
				"go.mod":       gomod,
				"main.go":      serve,
				"Procfile":     "web: bin/start.sh\n",
				"bin/start.sh": "#!/bin/sh\nset -e\nif [ -n \"$DEBUG\" ]; then\n  echo debug\nfi\nexec ./server\n",
			},
			rules: []string{"XI1", "V4", "IX1", "VIII2"},
		},
		{
			name: "a start script that supervises a backgrounded child",
			files: map[string]string{
				"go.mod":        gomod,
				"main.go":       serve,
				"Procfile":      "web: bin/start.sh\nworker: bin/daemon.sh\n",
				"bin/start.sh":  "#!/bin/sh\n(\n  ./server \"$@\"\n) &\nPID=$!\ntrap 'kill -TERM $PID' INT TERM\nwait $PID\n",
				"bin/daemon.sh": "#!/bin/sh\ntrap 'echo bye' TERM\n./server &\n",
			},
			rules: []string{"VIII2", "IX1"},
			want:  []string{"VIII2 bin/daemon.sh:3"},
		},
		{
			name: "test and development Dockerfiles are not the artifact",
			files: map[string]string{
				"go.mod":                 gomod,
				"Dockerfile.dev":         "FROM golang:1.26\nCMD [\"go\", \"run\", \".\"]\n",
				"integration/Dockerfile": "FROM golang:latest\nCMD [\"go\", \"test\", \"./...\"]\n",
				"build/test.Dockerfile":  "FROM golang:1.26\n",
			},
			rules: []string{"V1", "V2", "II4", "V5"},
		},
		{
			name: "names a config library derives from nested fields",
			files: map[string]string{
				"go.mod":       gomod,
				"main.go":      "package main\n\nimport (\n\t\"net/http\"\n\t\"os\"\n)\n\nfunc main() { http.ListenAndServe(os.Getenv(\"PORT\"), nil) }\n",
				"config.go":    "package main\n\ntype config struct {\n\tDB struct {\n\t\tDisableTLS bool `conf:\"default:true\"`\n\t\tMaxIdleConns int `conf:\"default:2\"`\n\t}\n}\n",
				".env.example": "PORT=8080\nSALES_DB_DISABLE_TLS=false\nSALES_DB_MAX_IDLE_CONNS=4\nSALES_DB_NAME=sales\n",
				".gitignore":   ".env\n",
			},
			rules: []string{"III2"},
			want:  []string{"III2 .env.example:4"},
		},
		{
			name: "OpenTelemetry variables, which the SDK reads itself",
			files: map[string]string{
				"go.mod":       gomod,
				"main.go":      "package main\n\nimport (\n\t\"net/http\"\n\t\"os\"\n)\n\nfunc main() { http.ListenAndServe(os.Getenv(\"PORT\"), nil) }\n",
				".env.example": "PORT=8080\n# OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318\nOTEL_TRACES_SAMPLER=parentbased_always_on\nUNUSED_SETTING=1\n",
				".gitignore":   ".env\n",
			},
			rules: []string{"III2"},
			want:  []string{"III2 .env.example:4"},
		},
		{
			name: "code that computes the names it reads",
			files: map[string]string{
				"go.mod":       gomod,
				"main.go":      "package main\n\nimport (\n\t\"net/http\"\n\t\"os\"\n)\n\nfunc must(key string) string { return os.Getenv(key) }\n\nfunc main() { http.ListenAndServe(os.Getenv(\"PORT\")+must(\"CART_ADDR\"), nil) }\n",
				".env.example": "PORT=8080\nCART_ADDR=cart:7070\n",
				".gitignore":   ".env\n",
			},
			rules: []string{"III2"},
		},
		{
			name: "services of other languages and someone else's Redis in a samples repository",
			files: map[string]string{
				"src/frontend/go.mod":  "module example.com/frontend\n\ngo 1.26.0\n",
				"src/frontend/main.go": "package main\n\nimport (\n\t\"net/http\"\n\t\"os\"\n)\n\nfunc main() { http.ListenAndServe(os.Getenv(\"PORT\"), nil) }\n",
				"skaffold.yaml":        "build:\n  artifacts:\n    - image: frontend\n    - image: cartservice\n",
				"kubernetes-manifests/cart.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: cartservice}
spec:
  replicas: 2
  template:
    metadata: {labels: {app: cart}}
    spec:
      containers:
        - name: server
          image: cartservice
          env: [{name: REDIS_ADDR, value: "redis-cart:6379"}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: redis-cart}
spec:
  template:
    spec:
      containers:
        - name: redis
          image: redis:7-alpine
          ports: [{containerPort: 6379}]
---
apiVersion: v1
kind: Service
metadata: {name: redis-cart}
spec:
  ports: [{port: 6379, targetPort: 6379}]
`,
			},
			rules: []string{"III2", "VII3"},
		},
		{
			name: "the Procfile hands PORT over as a flag",
			files: map[string]string{
				"go.mod":   gomod,
				"main.go":  serve,
				"Procfile": "web: svc --listen=$PORT --bind=0.0.0.0\n",
			},
			rules: []string{"VII2"},
		},
		{
			name: "an image that never passes PORT",
			files: map[string]string{
				"go.mod":     gomod,
				"main.go":    serve,
				"Procfile":   "web: svc\n",
				"Dockerfile": "FROM alpine:3.22\nENV PORT=8080\nEXPOSE 8080\nCMD [\"svc\", \"--port\", \"8080\"]\n",
			},
			rules: []string{"VII2"},
			want:  []string{"VII2 Procfile:1"},
		},
		{
			name: "a test package's fake keystore",
			files: map[string]string{
				"app/sdk/apitest/keystore.go": "package apitest\n\nconst key = `-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----`\n",
				"deploy/keys/signing.pem":     "-----BEGIN RSA PRIVATE KEY-----\n" + fakeKeyBody + "\n-----END RSA PRIVATE KEY-----\n",
			},
			rules: []string{"III3"},
			want:  []string{"III3 deploy/keys/signing.pem:1"},
		},
		{
			name: "keys named for tests or kept with test fixtures and stubs",
			files: map[string]string{
				"auth/test_key.pem":              "-----BEGIN RSA PRIVATE KEY-----\n" + fakeKeyBody + "\n-----END RSA PRIVATE KEY-----\n",
				"auth/testkey.pem":               "-----BEGIN RSA PRIVATE KEY-----\n" + fakeKeyBody + "\n-----END RSA PRIVATE KEY-----\n",
				"tls/server_test.pem":            "-----BEGIN PRIVATE KEY-----\n" + fakeKeyBody + "\n-----END PRIVATE KEY-----\n",
				"tls/test-ca.key":                "-----BEGIN EC PRIVATE KEY-----\n" + fakeKeyBody + "\n-----END EC PRIVATE KEY-----\n",
				"certs/fake-client.key":          "-----BEGIN PRIVATE KEY-----\n" + fakeKeyBody + "\n-----END PRIVATE KEY-----\n",
				"certs/dummy.pem":                "-----BEGIN PRIVATE KEY-----\n" + fakeKeyBody + "\n-----END PRIVATE KEY-----\n",
				"certs/sample_rsa.key":           "-----BEGIN RSA PRIVATE KEY-----\n" + fakeKeyBody + "\n-----END RSA PRIVATE KEY-----\n",
				"internal/testfixtures/jwt.pem":  "-----BEGIN PRIVATE KEY-----\n" + fakeKeyBody + "\n-----END PRIVATE KEY-----\n",
				"internal/oidc/stubs/signer.key": "-----BEGIN PRIVATE KEY-----\n" + fakeKeyBody + "\n-----END PRIVATE KEY-----\n",
				"internal/oidc/stub/signer.key":  "-----BEGIN PRIVATE KEY-----\n" + fakeKeyBody + "\n-----END PRIVATE KEY-----\n",
				"deploy/keys/server.pem":         "-----BEGIN RSA PRIVATE KEY-----\n" + fakeKeyBody + "\n-----END RSA PRIVATE KEY-----\n",
				"deploy/keys/latest.pem":         "-----BEGIN RSA PRIVATE KEY-----\n" + fakeKeyBody + "\n-----END RSA PRIVATE KEY-----\n",
			},
			rules: []string{"III3"},
			want:  []string{"III3 deploy/keys/latest.pem:1", "III3 deploy/keys/server.pem:1"},
		},
		{
			name: "PEM markers around stand-ins, in docs and in bundles",
			files: map[string]string{
				"auth/doc.go":              "// Package auth signs tokens with a key such as\n// -----BEGIN PRIVATE KEY----- X -----END PRIVATE KEY-----\npackage auth\n",
				"ui/src/settings.ts":       "const hint = \"-----BEGIN RSA PRIVATE KEY-----\\nMIIEpAIBAAKCAQEA...\\n-----END RSA PRIVATE KEY-----\";\n",
				"ui/src/short.ts":          "const hint = `-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIO\n-----END EC PRIVATE KEY-----`;\n",
				"docs/setup.md":            "```\n-----BEGIN RSA PRIVATE KEY-----\n" + fakeKeyBody + "\n-----END RSA PRIVATE KEY-----\n```\n",
				"ui/dist/assets/index.js":  "var a=\"-----BEGIN PRIVATE KEY-----\\n" + fakeKeyBody + "\\n-----END PRIVATE KEY-----\";\n",
				"web/static/editor.min.js": "var a=\"-----BEGIN PRIVATE KEY-----\\n" + fakeKeyBody + "\\n-----END PRIVATE KEY-----\";\n",
				"internal/certs/inline.go": "package certs\n\nconst key = \"-----BEGIN PRIVATE KEY-----\\n" + fakeKeyBody + "\\n-----END PRIVATE KEY-----\"\n",
			},
			rules: []string{"III3"},
			want:  []string{"III3 internal/certs/inline.go:3"},
		},
		{
			name: "a placeholder password default and an emoji named secret",
			files: map[string]string{
				"packaging/defaults.yml": "AdminPassword: \"insecure\"\nDatabasePassword: insecure\n",
				"web/emoji.json":         "{\n  \"secret\": \"㊙️\",\n  \"smile\": \"😄\"\n}\n",
			},
			rules: []string{"III3"},
		},
		{
			name: "translations of the word password",
			files: map[string]string{
				"webapp/src/locales/es.json": "{\n  \"password\": \"Contraseña\",\n  \"token\": \"Ficha\"\n}\n",
				"config/app.json":            "{\n  \"password\": \"Password\"\n}\n",
			},
			rules: []string{"III3"},
		},
		{
			name: "migrations of test stubs, fixtures and examples are not the service's",
			files: map[string]string{
				"go.mod":  gomod,
				"main.go": serve,
				"internal/db/stub/migrations/0001_init.sql":  "create table t (id int);\n",
				"pkg/store/stubs/migrations/1_init.sql":      "create table t (id int);\n",
				"fixtures/migrations/1_init.sql":             "create table t (id int);\n",
				"test/migrations/1_init.sql":                 "create table t (id int);\n",
				"internal/store/tests/migrations/1-init.sql": "create table t (id int);\n",
				"internal/mocks/migrations/1_init.sql":       "create table t (id int);\n",
				"examples/todo/migrations/1_init.sql":        "create table t (id int);\n",
				"migrations/0001_init.sql":                   "create table t (id int);\n",
				"migrations/0001_users.sql":                  "create table u (id int);\n",
			},
			rules: []string{"XII1", "XII2"},
			want:  []string{"XII1 migrations:0", "XII2 migrations/0001_users.sql:0"},
		},
		{
			name: "migrations embedded with a wildcard, per dialect",
			files: map[string]string{
				"go.mod":                                gomod,
				"internal/database/migrations.go":       "package database\n\nimport \"embed\"\n\n//go:embed migrations/*\nvar migrations embed.FS\n",
				"internal/database/migrations/pg/1.sql": "create table t (id int);\n",
				"internal/database/migrations/my/1.sql": "create table t (id int);\n",
			},
			rules: []string{"XII1"},
		},
		{
			name: "a compose image and a frontend's start script are not the service's",
			files: map[string]string{
				"go.mod":                gomod,
				"main.go":               serve,
				"Dockerfile.compose":    "FROM golang:1.22\nCMD [\"go\", \"run\", \".\"]\n",
				"docker/web/Dockerfile": "FROM node:22\nCOPY start.sh /start.sh\nUSER 1000\nCMD [\"/start.sh\"]\n",
				"docker/web/start.sh":   "#!/bin/sh\nyarn serve\n",
			},
			rules: []string{"V1", "V2", "X1", "IX1"},
		},
		{
			name: "an image that rebuilds on change is a development environment",
			files: map[string]string{
				"go.mod":                 gomod,
				"main.go":                serve,
				"docker/app/Dockerfile":  "FROM golang:1.26\nRUN go install github.com/cespare/reflex@v0.3.1\nENTRYPOINT [\"reflex\", \"-c\", \"/reflex.conf\"]\n",
				"docker/prod/Dockerfile": "FROM golang:1.26\nCOPY . /src\nRUN go build -o /app /src\nCMD [\"/app\"]\n",
			},
			rules: []string{"V2"},
			want:  []string{"V2 docker/prod/Dockerfile:1"},
		},
		{
			name: "lockfiles and checksum lists are not config",
			files: map[string]string{
				"web/package-lock.json": "{\n  \"packages\": {\n    \"node_modules/rc\": {\n      \"dependencies\": {\n        \"registry-auth-token\": \"^4.0.0\",\n        \"parse-passwd\": \"^1.0.0\"\n      }\n    }\n  }\n}\n",
				"web/composer.lock":     "{\n  \"api-key\": \"5f2b7c9d1e4a\"\n}\n",
			},
			rules: []string{"III3"},
		},
		{
			name: "an obvious example secret in base64 in a developer's config",
			files: map[string]string{
				"config.dev.yaml": "jwt_secret: c2VjcmV0LWtleQ==\nsession_secret: dGhpcy1pcy1hbi1leGFtcGxl\n",
			},
			rules: []string{"III3"},
		},
		{
			name: "a Debian package build is not the runtime image",
			files: map[string]string{
				"go.mod":                   gomod,
				"main.go":                  serve,
				"packaging/deb/Dockerfile": "FROM golang:1.26\nRUN apt-get install -y dpkg-dev\nCOPY . /src\nCMD [\"/src/packaging/deb/build.sh\"]\n",
				"packaging/deb/build.sh":   "#!/bin/sh\nset -e\ndpkg-buildpackage -us -uc\n",
				"scripts/Dockerfile.deb":   "FROM golang:latest\nRUN go build -o /svc . && fpm -s dir -t deb /svc\n",
			},
			rules: []string{"V2", "IX1", "II4", "V5"},
		},
		{
			name: "images that need the toolchain and test dummies are not the runtime image",
			files: map[string]string{
				"go.mod":                             gomod,
				"main.go":                            serve,
				"tools/codegen/Dockerfile":           "FROM golang:1.26 AS build\nRUN go build -o /gen ./cmd/gen\nFROM golang:1.26\nCOPY --from=build /gen /usr/bin/gen\nUSER 1000\nCMD [\"gen\"]\n",
				"docker/goproxy/Dockerfile":          "FROM golang:1.26\nUSER 1000\nCMD [\"go\", \"env\"]\n",
				"docker/develop/bookworm/Dockerfile": "FROM golang:1-bookworm\nUSER 1000\nCMD [\"bash\"]\n",
				"cli/Dockerfile":                     "FROM golang:1.26-alpine AS builder\nRUN go build -o /cli .\nFROM golang:1.26-alpine\nCOPY --from=builder /cli /usr/bin/cli\nUSER 1000\nENTRYPOINT [\"cli\"]\n",
				"docker/dummy/oidc/Dockerfile":       "FROM golang:alpine\nCMD [\"/oidc\"]\n",
				"internal/testdata/Dockerfile":       "FROM golang\nCMD [\"/fake\"]\n",
				"Dockerfile":                         "FROM golang:1.26\nCOPY . /src\nRUN go build -o /app /src\nUSER 1000\nCMD [\"/app\"]\n",
			},
			rules: []string{"V2", "II4"},
			want:  []string{"V2 Dockerfile:1", "II4 docker/develop/bookworm/Dockerfile:1"},
		},
		{
			name: "tooling images run the toolchain by purpose",
			files: map[string]string{
				"go.mod":                          gomod,
				"main.go":                         serve,
				"lint.Dockerfile":                 "FROM golang:1.26\nRUN go install github.com/golangci/golangci-lint/cmd/golangci-lint@v1.64.8\nUSER 1000\nCMD [\"golangci-lint\", \"run\"]\n",
				"vendor.Dockerfile":               "FROM golang:1.26\nUSER 1000\nCMD [\"make\", \"vendor\"]\n",
				"Dockerfile.lint":                 "FROM golang:1.26\nUSER 1000\nCMD [\"make\", \"lint\"]\n",
				"docs.Dockerfile":                 "FROM golang:1.26\nUSER 1000\nCMD [\"make\", \"docs\"]\n",
				"build/generate.Dockerfile":       "FROM golang:1.26\nUSER 1000\nCMD [\"make\", \"generate\"]\n",
				"dockerfiles/validate/Dockerfile": "FROM golang:1.26\nUSER 1000\nCMD [\"make\", \"validate\"]\n",
				"dockerfiles/ci/Dockerfile":       "FROM golang:1.26\nUSER 1000\nCMD [\"make\", \"all\"]\n",
				"scripts/check.Dockerfile":        "FROM golang:1.26\nUSER 1000\nCMD [\"make\", \"check\"]\n",
				"Dockerfile":                      "FROM golang:1.26\nCOPY . /src\nRUN go build -o /app /src\nUSER 1000\nCMD [\"/app\"]\n",
			},
			rules: []string{"V2"},
			want:  []string{"V2 Dockerfile:1"},
		},
		{
			name: "PORT read through a map from variable names to options",
			files: map[string]string{
				"go.mod":   gomod,
				"Procfile": "web: svc\n",
				"main.go": "package main\n\nimport (\n\t\"flag\"\n\t\"net/http\"\n\t\"os\"\n)\n\n" +
					"var fromEnv = map[string]string{\"PORT\": \"port\", \"DATABASE_URL\": \"db\"}\n\n" +
					"func main() {\n\tport := flag.String(\"port\", \"8080\", \"\")\n\tfor env, name := range fromEnv {\n\t\tif v, ok := os.LookupEnv(env); ok {\n\t\t\tflag.Set(name, v)\n\t\t}\n\t}\n\tflag.Parse()\n\thttp.ListenAndServe(\":\"+*port, nil)\n}\n",
			},
			rules: []string{"VII2"},
		},
		{
			name: "a committed config that the image copies in logs to a file",
			files: map[string]string{
				"go.mod":            gomod,
				"main.go":           serve,
				"config/app.yaml":   "server:\n  port: 8080\nlog-output: stdout,file\nlog-file: /var/log/svc/svc.log\n",
				"config/other.yaml": "log-output: file\n", // not in the image
				"Dockerfile":        "FROM golang:1.26 AS build\nCOPY . /src\nRUN go build -o /svc /src\nFROM alpine:3.22\nCOPY --from=build /svc /svc\nCOPY config/app.yaml /etc/svc/app.yaml\nUSER 65532\nCMD [\"/svc\"]\n",
			},
			rules: []string{"XI1"},
			want:  []string{"XI1 config/app.yaml:3", "XI1 config/app.yaml:4"},
		},
		{
			name: "migration files golang-migrate does not read, in a nested module",
			files: map[string]string{
				"backend/go.mod":                 "module example.com/backend\n\ngo 1.26.0\n\nrequire github.com/golang-migrate/migrate/v4 v4.19.0\n",
				"backend/migrations/1-init.sql":  "create table t (id int);\n",
				"backend/migrations/2-users.sql": "create table u (id int);\n",
				"backend/migrations/embed.go":    "package migrations\n\nimport \"embed\"\n\n//go:embed *.sql\nvar FS embed.FS\n",
			},
			rules: []string{"XII2"},
			want:  []string{"XII2 backend/migrations/1-init.sql:0", "XII2 backend/migrations/2-users.sql:0"},
		},
		{
			name: "floating base image tags",
			files: map[string]string{
				"Dockerfile": "FROM golang:1-alpine AS build\nFROM golang:alpine AS tools\nFROM python:3 AS docs\nFROM node:lts AS web\nFROM golang:1.26-alpine AS pinned\nFROM debian:bookworm-slim\nUSER 65532\n",
			},
			rules: []string{"II4"},
			want:  []string{"II4 Dockerfile:1", "II4 Dockerfile:2", "II4 Dockerfile:3", "II4 Dockerfile:4"},
		},
		{
			name: "Secret and ConfigMap keys count as variables only through envFrom",
			files: map[string]string{
				"go.mod": gomod,
				"main.go": "package main\n\nimport (\n\t\"net/http\"\n\t\"os\"\n)\n\n" +
					"func main() {\n\t_ = os.Getenv(\"DB_USER\") + os.Getenv(\"DB_PASS\") + os.Getenv(\"API_TOKEN\") + os.Getenv(\"LOG_LEVEL\") + os.Getenv(\"APP_MODE\")\n\thttp.ListenAndServe(os.Getenv(\"PORT\"), nil)\n}\n",
				"deploy/kustomization.yaml": "resources:\n  - deployment.yaml\n  - tokens.yaml\n  - settings.yaml\n" +
					"secretGenerator:\n  - name: db-auth\n    type: kubernetes.io/basic-auth\n    literals:\n      - username=app\n      - password=changeme\n" +
					"configMapGenerator:\n  - name: flags\n    literals:\n      - MODE=fast\n      - STALE_FLAG=1\n",
				"deploy/tokens.yaml":   "apiVersion: v1\nkind: Secret\nmetadata:\n  name: tokens\nstringData:\n  UPSTREAM_TOKEN: x\n",
				"deploy/settings.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  LOG_LEVEL: info\n  OLD_SETTING: \"1\"\n",
				"deploy/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: svc}
spec:
  template:
    spec:
      containers:
        - name: svc
          image: ghcr.io/acme/svc:1.0.0
          env:
            - name: DB_USER
              valueFrom: {secretKeyRef: {name: db-auth, key: username}}
            - name: DB_PASS
              valueFrom: {secretKeyRef: {name: db-auth, key: password}}
            - name: API_TOKEN
              valueFrom: {secretKeyRef: {name: tokens, key: UPSTREAM_TOKEN}}
            - name: UNUSED_ENV
              value: "1"
          envFrom:
            - configMapRef: {name: settings}
            - prefix: APP_
              configMapRef: {name: flags}
`,
			},
			rules: []string{"III2"},
			want:  []string{"III2 deploy/deployment.yaml:8", "III2 deploy/kustomization.yaml:15", "III2 deploy/settings.yaml:7"},
		},
		{
			name: "another component's Secret and ConfigMap beside the service",
			files: map[string]string{
				"go.mod":  gomod,
				"main.go": "package main\n\nimport (\n\t\"net/http\"\n\t\"os\"\n)\n\nfunc main() { http.ListenAndServe(os.Getenv(\"PORT\"), nil) }\n",
				"deploy/argocd/kustomization.yaml": "namespace: argocd\nresources:\n  - https://raw.githubusercontent.com/example/cd/v2.0.0/install.yaml\n  - env.yaml\n" +
					"secretGenerator:\n  - name: argocd-secret\n    behavior: merge\n    literals:\n      - admin.password=hash\n      - ADMIN_PASSWORD_MTIME=2025-01-01\n",
				"deploy/argocd/env.yaml":        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-env\ndata:\n  ARGOCD_OPTS: --insecure\n",
				"deploy/app/kustomization.yaml": "resources:\n  - deployment.yaml\n",
				"deploy/app/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: svc}
spec:
  template:
    spec:
      containers:
        - name: svc
          image: ghcr.io/acme/svc:1.0.0
          env: [{name: PORT, value: "8080"}]
`,
			},
			rules: []string{"III2"},
		},
		{
			name: "a kustomization that includes a remote resource through other directories",
			files: map[string]string{
				"deploy/kustomization.yaml":                  "resources:\n  - bootstrap/\n  - app/\n",
				"deploy/bootstrap/kustomization.yaml":        "resources:\n  - argocd/\n  - namespace.yaml\n",
				"deploy/bootstrap/namespace.yaml":            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: cd\n",
				"deploy/bootstrap/argocd/kustomization.yaml": "namespace: cd\nresources:\n  - https://raw.githubusercontent.com/example/cd/v2.0.0/install.yaml\n",
				"deploy/app/kustomization.yaml":              "resources:\n  - service.yaml\n",
				"deploy/app/service.yaml":                    "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n",
				"broken/kustomization.yaml":                  "resources:\n  - ../deploy/app/\n  - missing.yaml\n",
			},
			rules: []string{"V6"},
			want:  []string{"V6 broken/kustomization.yaml:1"},
		},
		{
			name: "maxUnavailable by replicas, in overlays of one base",
			files: map[string]string{
				"go.mod":                  gomod,
				"cmd/server/main.go":      "package main\n\nfunc main() {}\n",
				"base/kustomization.yaml": "resources:\n  - deployment.yaml\n",
				"base/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: app:1.0.0
          command: ["/usr/local/bin/server"]
          readinessProbe:
            httpGet: {path: /readyz, port: 8080}
`,
				// One replica (unset), and three: 25% rounds down to 0.
				"overlays/dev/kustomization.yaml":        "resources:\n  - ../../base\n",
				"overlays/stage/kustomization.yaml":      "resources:\n  - ../../base\npatches:\n  - path: patches/deployment.yaml\n",
				"overlays/stage/patches/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n",
				"overlays/prod/kustomization.yaml":       "resources:\n  - ../../base\npatches:\n  - path: patches/deployment.yaml\n",
				"overlays/prod/patches/deployment.yaml":  "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 6\n",
				"overlays/canary/kustomization.yaml":     "resources:\n  - ../../base\nreplicas:\n  - name: web\n    count: 8\n",
				"overlays/half/kustomization.yaml":       "resources:\n  - ../../base\npatches:\n  - path: strategy.yaml\n",
				"overlays/half/strategy.yaml":            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n  strategy:\n    rollingUpdate:\n      maxUnavailable: 50%\n",
				"overlays/small/kustomization.yaml":      "resources:\n  - ../../base\npatches:\n  - path: strategy.yaml\n",
				"overlays/small/strategy.yaml":           "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n  strategy:\n    rollingUpdate:\n      maxUnavailable: 30%\n",
				// Both round to 0, so Kubernetes stops an old pod first.
				"overlays/nosurge/kustomization.yaml":    "resources:\n  - ../../base\npatches:\n  - path: strategy.yaml\n",
				"overlays/nosurge/strategy.yaml":         "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n  strategy:\n    rollingUpdate:\n      maxSurge: 0\n      maxUnavailable: 25%\n",
				"overlays/autoscaled/kustomization.yaml": "resources:\n  - ../../base\n  - hpa.yaml\n",
				"overlays/autoscaled/hpa.yaml":           "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: web\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n  minReplicas: 2\n  maxReplicas: 10\n",
			},
			rules: []string{"IX6"},
			want: []string{
				"IX6 overlays/prod/patches/deployment.yaml:6",
				"IX6 overlays/canary/kustomization.yaml:3",
				"IX6 overlays/half/strategy.yaml:9",
				"IX6 overlays/nosurge/strategy.yaml:10",
				"IX6 overlays/autoscaled/kustomization.yaml:1",
			},
		},
		{
			name: "a samples repository has no root module",
			files: map[string]string{
				"frontend/go.mod": "module example.com/frontend\n\ngo 1.26.0\n",
				"checkout/go.mod": "module example.com/checkout\n\ngo 1.26.0\n",
			},
			rules: []string{"I1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := checkFiles(t, tt.files)
			var got []string
			for _, id := range tt.rules {
				for _, f := range outcome(t, rep, id).Findings {
					got = append(got, id+" "+f.File+":"+itoa(f.Line))
				}
			}
			if strings.Join(sorted(got), "\n") != strings.Join(sorted(tt.want), "\n") {
				t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(sorted(got), "\n"), strings.Join(sorted(tt.want), "\n"))
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// TestDevConfigSecretIsAdvice checks that a literal secret in a
// developer's config is reported as info, not as a committed secret.
func TestDevConfigSecretIsAdvice(t *testing.T) {
	rep := checkFiles(t, map[string]string{
		"configs/config.dev.yaml": "db_password: h7Fq2LmZpX9w\n",
		"configs/config.yaml":     "api_key: h7Fq2LmZpX9wQ3\n",
	})
	o := outcome(t, rep, "III3")
	sev := map[string]tf.Severity{}
	for _, f := range o.Findings {
		sev[f.File] = f.Severity
	}
	if sev["configs/config.dev.yaml"] != tf.Info || sev["configs/config.yaml"] != tf.Error {
		t.Errorf("III3 severities = %v, want info for the dev config and error for the other", sev)
	}
}

// TestProvidedTools checks that the tools a service's final image installs
// are declared, under their own names or their packages'.
func TestProvidedTools(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"go.mod":     "module example.com/svc\n\ngo 1.26.0\n",
		"main.go":    "package main\n\nimport \"net/http\"\n\nfunc main() { http.ListenAndServe(\"\", nil) }\n",
		"Dockerfile": "FROM golang:1.26 AS build\nRUN apt-get install -y git\nFROM debian:13\nRUN apt-get update && apt-get install -y postgresql-client curl\nUSER 65532\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	repo, err := tf.OpenRepo(root)
	if err != nil {
		t.Fatal(err)
	}
	scope := filerules.Check(repo, &tf.Collector{})
	for tool, want := range map[string]bool{"pg_dump": true, "curl": true, "git": false, "ffmpeg": false} {
		if got := scope.Provided(tool); got != want {
			t.Errorf("Provided(%q) = %v, want %v (git is only in the build stage)", tool, got, want)
		}
	}
}

// TestNestedModuleIsAdvice checks that a service that builds with nested
// modules of its own repository (replace => ./sub) is reported as info:
// one commit builds it, and only a gonew copy of a template loses them. A
// repository without a go.mod keeps the rule's severity.
func TestNestedModuleIsAdvice(t *testing.T) {
	rep := checkFiles(t, map[string]string{
		"go.mod":         "module example.com/svc\n\ngo 1.26.0\n\nrequire (\n\texample.com/svc/sdk v0.0.0\n\texample.com/svc/rpc v0.0.0\n)\n\nreplace example.com/svc/sdk => ./sdk\n\nreplace example.com/svc/rpc => ./api/rpc\n",
		"main.go":        "package main\n\nfunc main() {}\n",
		"sdk/go.mod":     "module example.com/svc/sdk\n\ngo 1.26.0\n",
		"api/rpc/go.mod": "module example.com/svc/rpc\n\ngo 1.26.0\n",
	})
	o := outcome(t, rep, "I1")
	if len(o.Findings) != 2 || o.Status != tf.Note {
		t.Fatalf("I1 = %s, want two info findings", render(o))
	}
	for _, f := range o.Findings {
		if f.Severity != tf.Info || !strings.Contains(f.Message, "gonew") {
			t.Errorf("I1 finding %s: %s at %v, want info naming gonew", f.Location(), f.Message, f.Severity)
		}
	}
	rep = checkFiles(t, map[string]string{"main.go": "package main\n\nfunc main() {}\n"})
	if o := outcome(t, rep, "I1"); o.Status != tf.Warn {
		t.Errorf("I1 without go.mod = %s, want warn", render(o))
	}
}

// TestProvidedToolsByPackage checks that a package installs the commands
// it is known for, when its name differs from theirs: subversion gives
// svn, mercurial hg, a versioned postgresql client psql. A virtual group
// deleted again provides nothing.
func TestProvidedToolsByPackage(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"go.mod":  "module example.com/svc\n\ngo 1.26.0\n",
		"main.go": "package main\n\nimport \"net/http\"\n\nfunc main() { http.ListenAndServe(\"\", nil) }\n",
		"Dockerfile": "FROM golang:1.26-alpine AS build\nRUN go build -o /svc .\n" +
			"FROM alpine:3.22\n" +
			"RUN apk --no-cache add ca-certificates subversion mercurial breezy openssh-client \\\n" +
			"    perl-image-exiftool graphviz=12.2.1-r0 ghostscript postgresql16-client \\\n" +
			" && apk add --virtual .build-deps imagemagick && apk del .build-deps\n" +
			"COPY --from=build /svc /svc\nUSER 65532\nCMD [\"/svc\"]\n",
		"worker/Dockerfile": "FROM debian:13\nRUN DEBIAN_FRONTEND=noninteractive apt-get -y install --no-install-recommends \\\n" +
			"    poppler-utils libreoffice-writer libimage-exiftool-perl redis-tools docker-ce-cli\n",
	}
	for name, content := range files {
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
	for tool, want := range map[string]bool{
		"svn": true, "svnversion": true, "hg": true, "bzr": true, "brz": true,
		"ssh-keygen": true, "scp": true, "exiftool": true, "dot": true, "gs": true,
		"psql": true, "pg_dump": true,
		"pdftotext": true, "soffice": true, "redis-cli": true, "docker": true,
		"convert": false, "magick": false, // installed and deleted again
		"ffmpeg": false,
	} {
		if got := scope.Provided(tool); got != want {
			t.Errorf("Provided(%q) = %v, want %v", tool, got, want)
		}
	}
}

// TestDevImageIsAdvice checks that a single-stage image on golang is
// advice when it is a development image: compose builds it, or another
// Dockerfile is named for production, and another Dockerfile builds the
// deployed image in stages. Alone, it is a warning.
func TestDevImageIsAdvice(t *testing.T) {
	const gomod = "module example.com/svc\n\ngo 1.26.0\n"
	const serve = "package main\n\nimport \"net/http\"\n\nfunc main() { http.ListenAndServe(\"\", nil) }\n"
	const single = "FROM golang:1.26\nWORKDIR /src\nCOPY . .\nRUN go build -o /svc .\nUSER 1000\nCMD [\"/svc\"]\n"
	const staged = "FROM golang:1.26 AS build\nCOPY . /src\nRUN go build -o /svc /src\nFROM gcr.io/distroless/static-debian12\nCOPY --from=build /svc /svc\nUSER 65532\nCMD [\"/svc\"]\n"
	tests := []struct {
		name  string
		files map[string]string
		want  tf.Status
	}{
		{"compose builds it beside prod.Dockerfile", map[string]string{
			"compose.yml":     "services:\n  app:\n    build: .\n    ports: [\"8080:8080\"]\n",
			"Dockerfile":      single,
			"prod.Dockerfile": staged,
		}, tf.Note},
		{"compose names it beside deploy/Dockerfile", map[string]string{
			"docker-compose.yml": "services:\n  app:\n    build:\n      context: .\n      dockerfile: Dockerfile\n",
			"Dockerfile":         single,
			"deploy/Dockerfile":  staged,
		}, tf.Note},
		{"no compose, beside Dockerfile.production", map[string]string{
			"Dockerfile":            single,
			"Dockerfile.production": staged,
		}, tf.Note},
		{"the only Dockerfile", map[string]string{
			"compose.yml": "services:\n  app:\n    build: .\n",
			"Dockerfile":  single,
		}, tf.Warn},
		{"the other image also ships the toolchain", map[string]string{
			"compose.yml":     "services:\n  app:\n    build: .\n",
			"Dockerfile":      single,
			"prod.Dockerfile": "FROM golang:1.26 AS build\nRUN go build -o /svc .\nFROM golang:1.26\nCOPY --from=build /svc /svc\nUSER 1000\nCMD [\"/svc\"]\n",
		}, tf.Warn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.files["go.mod"], tt.files["main.go"] = gomod, serve
			o := outcome(t, checkFiles(t, tt.files), "V2")
			if o.Status != tt.want || len(o.Findings) != 1 || o.Findings[0].File != "Dockerfile" {
				t.Errorf("V2 = %s, want %s on Dockerfile", render(o), tt.want)
			}
		})
	}
}

// TestBaseImageCommands checks that the commands a base image ships count
// as provided: BusyBox's mount on Alpine, coreutils on Debian; distroless
// ships none.
func TestBaseImageCommands(t *testing.T) {
	for base, want := range map[string]bool{"alpine:3.22": true, "debian:13-slim": true, "gcr.io/distroless/static-debian12:nonroot": false, "scratch": false} {
		root := t.TempDir()
		files := map[string]string{
			"go.mod":     "module example.com/svc\n\ngo 1.26.0\n",
			"main.go":    "package main\n\nimport \"net/http\"\n\nfunc main() { http.ListenAndServe(\"\", nil) }\n",
			"Dockerfile": "FROM golang:1.26 AS build\nRUN go build -o /svc .\nFROM " + base + "\nCOPY --from=build /svc /svc\nUSER 65532\nCMD [\"/svc\"]\n",
		}
		for name, content := range files {
			if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		repo, err := tf.OpenRepo(root)
		if err != nil {
			t.Fatal(err)
		}
		scope := filerules.Check(repo, &tf.Collector{})
		if got := scope.Provided("mount"); got != want {
			t.Errorf("on %s: Provided(mount) = %v, want %v", base, got, want)
		}
		if scope.Provided("ffmpeg") {
			t.Errorf("on %s: Provided(ffmpeg) = true, want false", base)
		}
	}
}

// TestPortFlagInImage checks that VII2 counts PORT as read when the
// image's final stage, or the start script it runs, hands PORT to the
// program as a flag's value, and only then.
func TestPortFlagInImage(t *testing.T) {
	const flagMain = "package main\n\nimport (\n\t\"flag\"\n\t\"net/http\"\n)\n\n" +
		"func main() {\n\tport := flag.String(\"port\", \"8080\", \"\")\n\tflag.Parse()\n\thttp.ListenAndServe(\":\"+*port, nil)\n}\n"
	for _, tt := range []struct {
		name   string
		files  map[string]string
		passes bool
	}{
		{"shell-form CMD", map[string]string{"Dockerfile": "FROM golang:1.26 AS build\nCOPY . /src\nRUN go build -o /svc /src\nFROM alpine:3.22\nCOPY --from=build /svc /usr/bin/svc\nENV PORT=8080\nUSER 65532\nCMD svc --port $PORT\n"}, true},
		{"exec-form ENTRYPOINT", map[string]string{"Dockerfile": "FROM alpine:3.22\nENV PORT=8080\nENTRYPOINT [\"app\", \"-port\", \"${PORT}\"]\n"}, true},
		{"a listen address", map[string]string{"Dockerfile": "FROM alpine:3.22\nCMD [\"app\", \"--listen\", \":$PORT\"]\n"}, true},
		{"flag=value", map[string]string{"Dockerfile": "FROM alpine:3.22\nCMD app -addr=:${PORT}\n"}, true},
		{"a start script", map[string]string{
			"Dockerfile": "FROM alpine:3.22\nCOPY start.sh /start.sh\nCMD [\"/start.sh\"]\n",
			"start.sh":   "#!/bin/sh\nexec app --http-addr \"0.0.0.0:${PORT}\"\n",
		}, true},
		{"only a build stage", map[string]string{"Dockerfile": "FROM golang:1.26 AS build\nCMD app --port $PORT\nFROM alpine:3.22\nCMD [\"app\"]\n"}, false},
		{"a fixed port", map[string]string{"Dockerfile": "FROM alpine:3.22\nENV PORT=8080\nCMD [\"app\", \"--port\", \"8080\"]\n"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.files["go.mod"], tt.files["main.go"], tt.files["app.json"] = "module example.com/svc\n\ngo 1.26.0\n", flagMain, "{\"name\": \"svc\"}\n"
			o := outcome(t, checkFiles(t, tt.files), "VII2")
			if got := len(o.Findings) == 0; got != tt.passes {
				t.Errorf("VII2 = %s, want passed %v", render(o), tt.passes)
			}
		})
	}
}
