package tf

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseSuppressions(t *testing.T) {
	tests := []struct {
		name, file, content string
		want                []Suppression
	}{
		{
			name:    "trailing go comment covers its line",
			file:    "a.go",
			content: "package a\nvar x = 1 //twelvefactor:ignore VI1 scratch file\n",
			want:    []Suppression{{File: "a.go", Line: 2, Target: 2, Rules: []string{"VI1"}, Reason: "scratch file"}},
		},
		{
			name:    "own line covers the next line, past stacked suppressions",
			file:    "a.go",
			content: "// twelvefactor:ignore III1,IX5 one reason\n//twelvefactor:ignore XI2 two\nfoo()\n",
			want: []Suppression{
				{File: "a.go", Line: 1, Target: 3, Rules: []string{"III1", "IX5"}, Reason: "one reason"},
				{File: "a.go", Line: 2, Target: 3, Rules: []string{"XI2"}, Reason: "two"},
			},
		},
		{
			name:    "yaml comment without reason",
			file:    "deploy/web.yaml",
			content: "spec:\n  # twelvefactor:ignore V3\n  image: app:latest\n",
			want:    []Suppression{{File: "deploy/web.yaml", Line: 2, Target: 3, Rules: []string{"V3"}}},
		},
		{
			name:    "Procfile",
			file:    "Procfile",
			content: "web: server # twelvefactor:ignore VII2 socket activated\n",
			want:    []Suppression{{File: "Procfile", Line: 1, Target: 1, Rules: []string{"VII2"}, Reason: "socket activated"}},
		},
		{
			name:    "mentioned inside another comment",
			file:    "a.go",
			content: "// Write //twelvefactor:ignore ID reason to suppress.\n",
		},
		{
			name:    "in a string, not a comment",
			file:    "a.go",
			content: "var s = \"twelvefactor:ignore VI1 x\"\n",
		},
		{
			name:    "markdown takes no suppressions",
			file:    "README.md",
			content: "# twelvefactor:ignore V1 example\n",
		},
		{
			name:    "the wrong comment syntax for the file",
			file:    "Dockerfile",
			content: "// twelvefactor:ignore V2 reason\nFROM golang:1.26\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseSuppressions(tt.file, []byte(tt.content))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseSuppressions(%q) mismatch (-want +got):\n%s", tt.content, diff)
			}
		})
	}
}

func TestBuildReport(t *testing.T) {
	c := &Collector{}
	c.Addf("VI1", "a.go", 3, "writes")
	c.Addf("VI1", "a.go", 9, "writes again")
	c.Addf("XI2", "b.go", 1, "prints")
	c.NotApplicable("no Dockerfile", "V2")
	sups := []Suppression{
		{File: "a.go", Line: 2, Target: 3, Rules: []string{"VI1"}, Reason: "scratch"},
		{File: "a.go", Line: 8, Target: 9, Rules: []string{"VI1"}},
	}
	cfg, err := ParseConfig([]byte("rules:\n  XI2: {severity: off, reason: a CLI}\n"))
	if err != nil {
		t.Fatal(err)
	}
	rep := BuildReport(c, cfg, sups, nil)
	got := make(map[string]Status)
	for _, o := range rep.Outcomes {
		got[o.Rule.ID] = o.Status
	}
	want := map[string]Status{"VI1": Warn, "XI2": Disabled, "V2": NotApplicable, "L1": Warn, "I1": Pass}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("BuildReport() status of %s = %s, want %s", id, got[id], w)
		}
	}
	s := rep.Summary()
	if s.Findings != 2 || s.Suppressed != 1 {
		t.Errorf("BuildReport() summary = %d active, %d suppressed; want 2 active (VI1 unsuppressed, L1), 1 suppressed", s.Findings, s.Suppressed)
	}
	if !rep.Reaches(Warning) || rep.Reaches(Error) {
		t.Errorf("BuildReport().Reaches(warning, error) = %v, %v; want true, false", rep.Reaches(Warning), rep.Reaches(Error))
	}
}

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name, yaml string
		wantErr    bool
	}{
		{"empty", "", false},
		{"full", "rules:\n  VI1: {severity: info}\nconfig-packages: [internal/settings]\nexclude: [examples]\nignore:\n  - {rule: XII2, path: migrations/x.sql, reason: seed}\n", false},
		{"unknown rule", "rules:\n  Z1: {severity: info}\n", true},
		{"unknown severity", "rules:\n  VI1: {severity: fatal}\n", true},
		{"unknown key", "rulez: {}\n", true},
		{"ignore without reason", "ignore:\n  - {rule: XII2, path: migrations}\n", true},
		{"ignore of unknown rule", "ignore:\n  - {rule: Q, path: x, reason: y}\n", true},
		{"bad pattern", "exclude: ['[']\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tt.yaml))
			if (err != nil) != tt.wantErr {
				t.Errorf("ParseConfig(%q) error = %v, want error: %v", tt.yaml, err, tt.wantErr)
			}
		})
	}
}

func TestIgnoreCovers(t *testing.T) {
	tests := []struct {
		ig   Ignore
		file string
		want bool
	}{
		{Ignore{Rule: "III3", Path: "examples"}, "examples/certs/key.pem", true},
		{Ignore{Rule: "III3", Path: "examples/*/key.pem"}, "examples/certs/key.pem", true},
		{Ignore{Rule: "III3", Path: "examples"}, "cmd/examples.go", false},
		{Ignore{Rule: "I3", Path: ""}, "", true},
		{Ignore{Rule: "I3", Path: ""}, "go.mod", false},
	}
	for _, tt := range tests {
		if got := tt.ig.covers(Finding{Rule: tt.ig.Rule, File: tt.file}); got != tt.want {
			t.Errorf("Ignore{Path: %q}.covers(%q) = %v, want %v", tt.ig.Path, tt.file, got, tt.want)
		}
	}
}

// TestWriteTextEscapes checks that names from the repository cannot drive
// the terminal: control characters are shown escaped, even without
// colour.
func TestWriteTextEscapes(t *testing.T) {
	c := &Collector{}
	c.Addf("VI3", "deploy/\x1b[2Japp.yaml", 3, "Deployment \x1b]0;owned\x07x: container web has a writable root filesystem")
	c.Notef("skipped \u202eevil\u202c\nnext")
	var b strings.Builder
	if err := BuildReport(c, nil, nil, nil).WriteText(&b, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.ContainsAny(out, "\x1b\x07\u202e\u202c") {
		t.Errorf("WriteText() output holds raw control characters: %q", out)
	}
	for _, want := range []string{`deploy/\x1b[2Japp.yaml:3`, `Deployment \x1b]0;owned\x07x`, `skipped \u202eevil\u202c\nnext`} {
		if !strings.Contains(out, want) {
			t.Errorf("WriteText() output lacks %q:\n%s", want, out)
		}
	}
}
