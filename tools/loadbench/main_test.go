package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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

// TestReportEquivalent checks that with -equivalent each of the server's
// cases is set against the bare server configured as the template is,
// round by round, and that the compare pairing does not mistake it for a
// case of its own.
func TestReportEquivalent(t *testing.T) {
	cases := append([]benchCase{{name: "bare"}}, serverCases("a", "")...)
	cases = append(cases, benchCase{name: "equivalent", equivalent: true})
	results := make([][]measurement, len(cases))
	for round := range 3 {
		// Bare at 10 µs, the equivalent at 11, the server at 13.2: 1.2×
		// the equivalent, in every round, whatever the round's scale.
		scale := time.Duration(round + 1)
		for i, us := range []time.Duration{10000, 13200, 13200, 13200, 11000} {
			results[i] = append(results[i], measurement{rps: 100, p99: time.Millisecond, cpuPerReq: scale * us * time.Nanosecond, idleRSS: 1 << 20})
		}
	}
	var out strings.Builder
	if err := report(&out, cases, results, "", ""); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases[1:4] {
		want := "| " + c.name + " | 1.00 | 1.00 | 1.20 |"
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "-compare server") {
		t.Errorf("report pairs the equivalent server as a -compare one:\n%s", out.String())
	}
}

// TestServerTimeouts reads the four timeouts from the template's
// .env.example, and refuses a file that lacks one or garbles one.
func TestServerTimeouts(t *testing.T) {
	got, err := serverTimeouts("../../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Errorf("serverTimeouts(.env.example) = %q, want the four timeouts", got)
	}
	for name, text := range map[string]string{
		"missing": "HTTP_READ_HEADER_TIMEOUT=5s\nHTTP_READ_TIMEOUT=30s\nHTTP_WRITE_TIMEOUT=30s\n",
		"garbled": "HTTP_READ_HEADER_TIMEOUT=5s\nHTTP_READ_TIMEOUT=30s\nHTTP_WRITE_TIMEOUT=30s\nHTTP_IDLE_TIMEOUT=two minutes\n",
	} {
		f := filepath.Join(t.TempDir(), ".env")
		if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if got, err := serverTimeouts(f); err == nil {
			t.Errorf("%s: serverTimeouts = %q, want an error", name, got)
		}
	}
}

// TestBareEquivalent runs the bare server as -equivalent configures it:
// it sends the given headers besides its own, and cuts a client that is
// too slow with its headers; unconfigured, it sends only its own.
func TestBareEquivalent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the bare server")
	}
	bare, err := buildBare(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		env     []string
		headers map[string]string
	}{
		{"plain", nil, map[string]string{}},
		{"equivalent", []string{"BARE_HEADERS=X-One: 1\nX-Two: a b; c", "HTTP_READ_HEADER_TIMEOUT=300ms"},
			map[string]string{"X-One": "1", "X-Two": "a b; c"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			port, err := freePort()
			if err != nil {
				t.Fatal(err)
			}
			addr := "127.0.0.1:" + strconv.Itoa(port)
			cmd := exec.Command(bare)
			cmd.Env = append([]string{"PORT=" + strconv.Itoa(port), "ADMIN_ADDR=127.0.0.1:0"}, tt.env...)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
			if err := waitReady("http://" + addr + "/"); err != nil {
				t.Fatal(err)
			}
			resp, err := http.Get("http://" + addr + "/")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			for name, values := range resp.Header {
				switch name {
				case "Content-Type", "Content-Length", "Date":
					continue
				}
				if want, ok := tt.headers[name]; !ok || len(values) != 1 || values[0] != want {
					t.Errorf("%s: %q, want %q", name, values, tt.headers[name])
				}
			}
			for name := range tt.headers {
				if resp.Header.Get(name) == "" {
					t.Errorf("no %s header", name)
				}
			}
			// Half a request line, then nothing: with a header timeout the
			// server hangs up; without one it waits (checked for 1 s).
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_, _ = c.Write([]byte("GET / HTTP/1.1\r\n"))
			_ = c.SetReadDeadline(time.Now().Add(time.Second))
			_, err = c.Read(make([]byte, 1))
			timedOut := errors.Is(err, os.ErrDeadlineExceeded)
			if wantCut := len(tt.env) > 0; timedOut == wantCut {
				t.Errorf("read after a half request: %v; want the server to hang up: %v", err, wantCut)
			}
		})
	}
}
