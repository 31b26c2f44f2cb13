package main

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestBuildFlagsShip checks that loadbench builds the server with the flags
// of the image and of make build, so that a change to how the binary ships
// changes what is measured too.
func TestBuildFlagsShip(t *testing.T) {
	want := strings.Join(buildFlags, " ")
	for _, name := range []string{"../../Dockerfile", "../../Makefile"} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		var found bool
		for line := range strings.Lines(string(b)) {
			if _, args, ok := strings.Cut(line, "go build "); ok {
				found = true
				if !strings.Contains(strings.ReplaceAll(args, `"`, ""), want) {
					t.Errorf("%s builds with %q; loadbench with %q", name, strings.TrimSpace(args), want)
				}
			}
		}
		if !found {
			t.Errorf("%s has no go build line", name)
		}
	}
}

// TestReportPairsCompare checks that with -compare each of the second
// server's cases is set against the same case of the first, round by round.
func TestReportPairsCompare(t *testing.T) {
	cases := append([]benchCase{{name: "bare"}}, serverCases("a", "")...)
	cases = append(cases, serverCases("b", compareSuffix)...)
	results := make([][]measurement, len(cases))
	for round := range 3 {
		for i := range cases {
			// The compare server (cases 4–6) takes 1.5× the CPU of the
			// first (cases 1–3) in every round; the rounds differ.
			cpu := time.Duration(10*(round+1)) * time.Microsecond
			if i >= 4 {
				cpu = cpu * 3 / 2
			}
			results[i] = append(results[i], measurement{rps: 100, p99: time.Millisecond, cpuPerReq: cpu, allocsPerReq: 10, idleRSS: 1 << 20})
		}
	}
	var out strings.Builder
	if err := report(&out, cases, results, "", ""); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases[1:4] {
		want := "| " + c.name + " | 1.000 | 1.000 | 1.500 | 1.000 | 1.000 |"
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

// TestReportSpread checks that the report gives the spread of each case's
// per-round CPU ratio, not only its median.
func TestReportSpread(t *testing.T) {
	cases := append([]benchCase{{name: "bare"}}, serverCases("a", "")...)
	results := make([][]measurement, len(cases))
	// Five rounds: bare at 10 µs each time; the first case at 11, 12, 13,
	// 14 and 20 µs, so its ratios are 1.1 to 2.0 with quartiles 1.2, 1.4.
	for _, cpu := range []int{11, 12, 13, 14, 20} {
		for i := range cases {
			us := 10
			if i > 0 {
				us = cpu
			}
			results[i] = append(results[i], measurement{rps: 100, p99: time.Millisecond, cpuPerReq: time.Duration(us) * time.Microsecond, idleRSS: 1 << 20})
		}
	}
	var out strings.Builder
	if err := report(&out, cases, results, "", ""); err != nil {
		t.Fatal(err)
	}
	want := "| " + cases[1].name + " | 1.10 | 1.20 | 1.30 | 1.40 | 2.00 |"
	if !strings.Contains(out.String(), want) {
		t.Errorf("report lacks %q:\n%s", want, out.String())
	}
}

func TestQuantile(t *testing.T) {
	xs := []float64{4, 1, 3, 2}
	for _, tt := range []struct{ q, want float64 }{{0, 1}, {0.25, 1.75}, {0.5, 2.5}, {1, 4}} {
		if got := quantile(xs, tt.q); got != tt.want {
			t.Errorf("quantile(%v, %v) = %v, want %v", xs, tt.q, got, tt.want)
		}
	}
	if got := quantile(nil, 0.5); got != 0 {
		t.Errorf("quantile(nil) = %v, want 0", got)
	}
}
