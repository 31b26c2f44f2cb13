package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	tf "github.com/dozen-go/dozen/twelvefactor/internal/tf"
	"github.com/dozen-go/dozen/twelvefactor/internal/tf/fixture"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestGolden runs the command over the sample repository in each output
// format and compares the output with testdata/golden/sample.<format>.
func TestGolden(t *testing.T) {
	root := fixture.Copy(t, filepath.Join("testdata", "sample"))
	for _, format := range []string{"text", "json", "sarif"} {
		t.Run(format, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), []string{"-format", format, "-color", "never", root}, &stdout, &stderr)
			if !errors.Is(err, errThreshold) {
				t.Errorf("run(-format %s) = %v, want errThreshold (the sample has errors)", format, err)
			}
			golden := filepath.Join("testdata", "golden", "sample."+format)
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, stdout.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if diff := cmp.Diff(string(want), stdout.String()); diff != "" {
				t.Errorf("run(-format %s) output mismatch (-want +got):\n%s", format, diff)
			}
		})
	}
}

// TestRunArgs checks flags, exit conditions and usage errors.
func TestRunArgs(t *testing.T) {
	clean := t.TempDir()
	if err := os.WriteFile(filepath.Join(clean, "README.md"), []byte("# not a Go repo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		wantErr error  // nil, errThreshold, or errUsage for any other error
		stdout  string // a substring of the output
	}{
		{"warnings pass the default threshold", []string{clean}, nil, "I1"},
		{"warnings reach -fail-on warning", []string{"-fail-on", "warning", clean}, errThreshold, "no go.mod"},
		{"never", []string{"-fail-on", "never", "-format", "json", clean}, nil, `"status": "warn"`},
		{"rule list", []string{"-rules"}, nil, "III1"},
		{"colour on request", []string{"-color", "always", clean}, nil, "\x1b[33mwarn"},
		{"no colour off a terminal", []string{"-v", clean}, nil, "  warn  I1 "},
		{"bad colour", []string{"-color", "pink", clean}, errUsage, ""},
		{"help", []string{"-h"}, flag.ErrHelp, ""},
		{"unknown flag", []string{"-nope"}, errUsage, ""},
		{"bad format", []string{"-format", "xml", clean}, errUsage, ""},
		{"bad threshold", []string{"-fail-on", "fatal", clean}, errUsage, ""},
		{"two directories", []string{clean, clean}, errUsage, ""},
		{"missing directory", []string{filepath.Join(clean, "missing")}, errUsage, ""},
		{"empty directory argument", []string{""}, errUsage, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tt.args, &stdout, &stderr)
			switch {
			case errors.Is(tt.wantErr, errUsage):
				if err == nil || errors.Is(err, errThreshold) {
					t.Errorf("run(%q) = %v, want a usage error", tt.args, err)
				}
			case !errors.Is(err, tt.wantErr):
				t.Errorf("run(%q) = %v, want %v", tt.args, err, tt.wantErr)
			}
			if !strings.Contains(stdout.String(), tt.stdout) {
				t.Errorf("run(%q) stdout = %q, want it to contain %q", tt.args, stdout.String(), tt.stdout)
			}
		})
	}
}

// errUsage stands for any error other than errThreshold in TestRunArgs.
var errUsage = errors.New("usage error")

// TestReadmeRuleTable checks that README.md lists every rule with its
// current factor, severity and title.
func TestReadmeRuleTable(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range tf.Rules() {
		f := tf.FactorOf(r.Factor)
		row := fmt.Sprintf("| %s | %s. %s | %s | %s |", r.ID, f.Numeral, f.Name, r.Severity, r.Title)
		if !strings.Contains(string(readme), row) {
			t.Errorf("README.md lacks the row %q", row)
		}
	}
}
