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

// results gives every case the same measurement in each round but CPU
// per request, which cpu sets by case and round.
func results(cases []benchCase, rounds int, cpu func(i, round int) time.Duration) [][]measurement {
	rs := make([][]measurement, len(cases))
	for round := range rounds {
		for i := range cases {
			rs[i] = append(rs[i], measurement{rps: 100, p99: time.Millisecond, cpuPerReq: cpu(i, round), allocsPerReq: 10, idleRSS: 1 << 20})
		}
	}
	return rs
}

// TestReportPairsCompare checks that with -compare each of the second
// server's cases is set against the same case of the first, round by round.
func TestReportPairsCompare(t *testing.T) {
	cases := append(referenceCases("r", nil), serverCases("a", "")...)
	cases = append(cases, serverCases("b", compareSuffix)...)
	// The compare server (the third group) takes 1.5× the CPU of the
	// template (the second) in every round; the rounds differ.
	rs := results(cases, 3, func(i, round int) time.Duration {
		cpu := time.Duration(10*(round+1)) * time.Microsecond
		if i >= 2*len(paths) {
			cpu = cpu * 3 / 2
		}
		return cpu
	})
	var out strings.Builder
	if err := report(&out, cases, rs, "", ""); err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		want := "| " + p.name + " | 1.000 | 1.000 | 1.500 | 1.000 | 1.000 |"
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

// TestReportAgainstReference checks that each template case is set against
// the reference's case of the same path, with the spread of the per-round
// CPU ratio and whether the bounds hold.
func TestReportAgainstReference(t *testing.T) {
	cases := append(referenceCases("r", nil), serverCases("a", "")...)
	// Five rounds: the reference at 10 µs each time; the template's first
	// case at 11, 12, 13, 14 and 20 µs, so its ratios are 1.1 to 2.0 with
	// quartiles 1.2, 1.4; its other cases at 10.5 µs, within the bounds.
	cpus := []int{11, 12, 13, 14, 20}
	rs := results(cases, len(cpus), func(i, round int) time.Duration {
		switch {
		case i < len(paths):
			return 10 * time.Microsecond
		case i == len(paths):
			return time.Duration(cpus[round]) * time.Microsecond
		}
		return 10500 * time.Nanosecond
	})
	var out strings.Builder
	if err := report(&out, cases, rs, "", ""); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| " + paths[0].name + " | 1.30 | 1.10, 1.20, 1.40, 2.00 | 1.00 | 1.00 | no |",
		"| " + paths[1].name + " | 1.05 | 1.05, 1.05, 1.05, 1.05 | 1.00 | 1.00 | yes |",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "-compare server") {
		t.Errorf("report has a -compare table without a -compare server:\n%s", out.String())
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

// TestReference runs the chi reference as loadbench configures it: it
// sends the given headers, answers the three measured paths as the
// template does (200, 404, 302), exposes the runtime counters loadbench
// reads, and cuts a client that is too slow with its headers.
func TestReference(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the chi reference")
	}
	bin := filepath.Join(t.TempDir(), "chiref")
	if err := goBuild(context.Background(), "", bin, "./chiref"); err != nil {
		t.Fatal(err)
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	adminPort, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(bin)
	cmd.Env = []string{"PORT=" + strconv.Itoa(port), "ADMIN_ADDR=127.0.0.1:" + strconv.Itoa(adminPort),
		"REFERENCE_HEADERS=X-One: 1\nX-Two: a b; c", "HTTP_READ_HEADER_TIMEOUT=300ms"}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	if err := waitReady("http://" + addr + "/readyz"); err != nil {
		t.Fatal(err)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, p := range paths {
		resp, err := client.Get("http://" + addr + p.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := p.status
		if want == 0 {
			want = http.StatusOK
		}
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", p.path, resp.StatusCode, want)
		}
		if resp.Header.Get("X-One") != "1" || resp.Header.Get("X-Two") != "a b; c" {
			t.Errorf("GET %s: headers %v, want X-One and X-Two as configured", p.path, resp.Header)
		}
	}
	if _, err := readRuntimeStats("http://127.0.0.1:" + strconv.Itoa(adminPort) + "/metrics"); err != nil {
		t.Error(err)
	}
	// Half a request line, then nothing: the header timeout hangs up.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = c.Write([]byte("GET / HTTP/1.1\r\n"))
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err = c.Read(make([]byte, 1)); errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read after a half request: %v; want the server to hang up after its header timeout", err)
	}
}
