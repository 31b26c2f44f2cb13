package filerules_test

import (
	"os"
	"path/filepath"
	"testing"

	tf "github.com/dozen-go/dozen/twelvefactor/internal/tf"
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
