// Command loadbench measures the template's server against a peer doing
// the same job, in the same run on the same machine, and prints the
// ratios. The peer is chiref: a chi service as a competent team writes it
// (chi's RequestID, RealIP and Recoverer, a slog JSON access line, a
// Prometheus counter and duration histogram by route, the template's
// security headers and server timeouts). Three cases: GET /version through
// the whole stack, a 404 for an unknown path, and the redirect hot path.
// For each it reports throughput, p50 and p99 latency, server CPU per
// request, heap allocations and GC cycles per 1,000 requests (read from
// each process's /metrics before and after), start-to-ready time, idle and
// loaded memory, and binary size.
//
// Each server runs pinned to CPU 0 and the load (vegeta, closed loop over
// keep-alive connections) to CPU 1; rounds alternate between the servers
// and the report gives medians of the per-round ratios, which is what a
// noisy machine can measure steadily.
//
//	cd tools && go run ./loadbench -rounds 6 -duration 5s
//
// With -compare DIR, a second template tree (a git worktree of another
// commit, or a variant) is built too and measured in the same rounds, and
// the report sets each of its cases against the same case of the first,
// round by round: the way to see what one change costs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		os.Exit(1)
	}
}

// options are the flags.
type options struct {
	template    string
	compare     string
	rounds      int
	duration    time.Duration
	connections int
	serverCPU   string
	loadCPU     string
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("loadbench", flag.ContinueOnError)
	var o options
	fs.StringVar(&o.template, "template", "..", "the template's directory, whose ./cmd/server is measured")
	fs.StringVar(&o.compare, "compare", "", "a second template directory (say, a git worktree of another commit) whose server is measured in the same rounds, interleaved with the first")
	fs.IntVar(&o.rounds, "rounds", 6, "rounds, each measuring every server once")
	fs.DurationVar(&o.duration, "duration", 5*time.Second, "load duration per measurement")
	fs.IntVar(&o.connections, "c", 64, "concurrent keep-alive connections")
	fs.StringVar(&o.serverCPU, "server-cpu", "0", "CPU list the servers are pinned to (taskset -c)")
	fs.StringVar(&o.loadCPU, "load-cpu", "1", "CPU list the load generator is pinned to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := pinSelf(o.loadCPU); err != nil {
		fmt.Fprintln(stdout, "note: load generator not pinned:", err)
	}

	dir, err := os.MkdirTemp("", "loadbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	reference, server, err := build(ctx, o.template, dir)
	if err != nil {
		return err
	}
	env, err := referenceEnv(ctx, server, o.template, dir, o)
	if err != nil {
		return err
	}
	cases := append(referenceCases(reference, env), serverCases(server, "")...)
	if o.compare != "" {
		other, err := buildServer(ctx, o.compare, filepath.Join(dir, "server-compare"))
		if err != nil {
			return err
		}
		cases = append(cases, serverCases(other, compareSuffix)...)
	}
	results := make([][]measurement, len(cases))
	for round := range o.rounds {
		for i, c := range cases {
			m, err := measure(ctx, c, o, dir)
			if err != nil {
				return fmt.Errorf("round %d, %s: %w", round+1, c.name, err)
			}
			results[i] = append(results[i], m)
			fmt.Fprintf(stdout, "round %d %-42s %8.0f req/s  p50 %-9v p99 %-9v cpu/req %-8v allocs/req %5.1f  GC/1k %5.2f  start %v\n",
				round+1, c.name, m.rps, m.p50, m.p99, m.cpuPerReq, m.allocsPerReq, m.gcPer1k, m.start)
		}
	}
	return report(stdout, cases, results, reference, server)
}

// compareSuffix ends the names of the -compare server's cases.
const compareSuffix = " [-compare]"

// paths are the measured requests, in the order of every server's cases.
var paths = []struct {
	name, path string
	status     int // 0 means 200
}{
	{"GET /version", "/version", 0},
	{"GET /no/such/path (404)", "/no/such/path", http.StatusNotFound},
	{"GET /{code} (redirect)", "/benchx", http.StatusFound},
}

// referenceCases are the chi reference's measurements; env configures it.
func referenceCases(bin string, env []string) []benchCase {
	var cases []benchCase
	for _, p := range paths {
		cases = append(cases, benchCase{name: "chi reference " + p.name, bin: bin, path: p.path, ready: "/readyz", status: p.status, env: env})
	}
	return cases
}

// serverCases are the measurements of one template server binary, their
// names ending in suffix.
func serverCases(bin, suffix string) []benchCase {
	var cases []benchCase
	for _, p := range paths {
		c := benchCase{name: "template " + p.name + suffix, bin: bin, path: p.path, ready: "/readyz", status: p.status}
		if p.status == http.StatusFound {
			c.setup = createLink // example
		}
		cases = append(cases, c)
	}
	return cases
}

// referenceEnv configures the chi reference as the template is configured:
// the headers the template's server sends on GET /version that are not its
// own bookkeeping (the security headers), and the server timeouts of the
// template's .env.example.
func referenceEnv(ctx context.Context, server, template, dir string, o options) ([]string, error) {
	var headers []string
	probe := benchCase{name: "probe", bin: server, path: "/version", ready: "/readyz", setup: func(base string) error {
		resp, err := http.Get(base + "/version")
		if err != nil {
			return err
		}
		resp.Body.Close()
		for name, values := range resp.Header {
			switch name {
			case "Content-Type", "Content-Length", "Date", "X-Request-Id": // what every server sends, or the stack's own
				continue
			}
			for _, v := range values {
				headers = append(headers, name+": "+v)
			}
		}
		return nil
	}}
	o.duration = 100 * time.Millisecond // the probe only needs the server up
	if _, err := measure(ctx, probe, o, dir); err != nil {
		return nil, fmt.Errorf("reading the template's headers: %w", err)
	}
	if len(headers) == 0 {
		return nil, errors.New("the template's GET /version sent no security headers for the reference to send too")
	}
	slices.Sort(headers)
	timeouts, err := serverTimeouts(filepath.Join(template, ".env.example"))
	if err != nil {
		return nil, err
	}
	return append([]string{"REFERENCE_HEADERS=" + strings.Join(headers, "\n")}, timeouts...), nil
}

// serverTimeouts returns the settings of the four net/http server timeouts
// in an .env file, as NAME=value.
func serverTimeouts(envFile string) ([]string, error) {
	b, err := os.ReadFile(envFile)
	if err != nil {
		return nil, err
	}
	names := []string{"HTTP_READ_HEADER_TIMEOUT", "HTTP_READ_TIMEOUT", "HTTP_WRITE_TIMEOUT", "HTTP_IDLE_TIMEOUT"}
	var found []string
	for line := range strings.Lines(string(b)) {
		name, value, ok := strings.Cut(strings.TrimSpace(line), "=")
		if ok && slices.Contains(names, name) {
			if _, err := time.ParseDuration(value); err != nil {
				return nil, fmt.Errorf("%s: %s: %w", envFile, name, err)
			}
			found = append(found, name+"="+value)
		}
	}
	if len(found) != len(names) {
		return nil, fmt.Errorf("%s sets %d of %v", envFile, len(found), names)
	}
	return found, nil
}

// buildFlags are the Dockerfile's go build flags, so that the sizes and
// resident memory measured here are those of the binary that ships: static,
// trimmed, stripped, without gRPC's debug-page tracing.
var buildFlags = []string{"-trimpath", "-tags", "grpcnotrace", "-ldflags=-s -w"}

// build compiles the chi reference and the template's server as the
// Dockerfile builds the template.
func build(ctx context.Context, template, dir string) (reference, server string, err error) {
	reference = filepath.Join(dir, "chiref")
	if err = goBuild(ctx, "", reference, "./loadbench/chiref"); err != nil {
		return "", "", err
	}
	server, err = buildServer(ctx, template, filepath.Join(dir, "server"))
	return reference, server, err
}

// buildServer compiles template's ./cmd/server to out.
func buildServer(ctx context.Context, template, out string) (string, error) {
	return out, goBuild(ctx, template, out, "./cmd/server")
}

// goBuild runs go build with buildFlags in dir.
func goBuild(ctx context.Context, dir, out, pkg string) error {
	args := append(append([]string{"build"}, buildFlags...), "-o", out, pkg)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build %s in %s: %w\n%s", pkg, dir, err, b)
	}
	return nil
}

// benchCase is one server and the request it is measured with.
type benchCase struct {
	name  string
	bin   string
	path  string
	ready string // the path that answers 200 once the server is ready
	// status is the response status every request must get; 0 means 200.
	status int
	setup  func(base string) error
	env    []string // added to the process's environment
}

// measurement is one case's figures in one round.
type measurement struct {
	rps        float64
	p50, p99   time.Duration
	cpuPerReq  time.Duration
	start      time.Duration
	idleRSS    int64
	loadedRSS  int64
	errorRatio float64 // requests that failed or got another status
	// allocsPerReq and gcPer1k are the server's heap allocations per
	// request and GC cycles per 1,000 requests during the measurement.
	allocsPerReq float64
	gcPer1k      float64
}

const token = "loadbench-token-0123456789"

func measure(ctx context.Context, c benchCase, o options, dir string) (measurement, error) {
	port, err := freePort()
	if err != nil {
		return measurement{}, err
	}
	adminPort, err := freePort()
	if err != nil {
		return measurement{}, err
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	stats := "http://127.0.0.1:" + strconv.Itoa(adminPort) + "/metrics"
	logs, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return measurement{}, err
	}
	defer logs.Close()
	cmd := exec.CommandContext(ctx, "taskset", "-c", o.serverCPU, c.bin)
	cmd.Stdout, cmd.Stderr = logs, logs
	// Each binary has a data directory of its own: the trees -compare sets
	// side by side may migrate the embedded database differently.
	cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port), "ADMIN_ADDR=127.0.0.1:"+strconv.Itoa(adminPort),
		"DATA_DIR="+filepath.Join(dir, "data-"+filepath.Base(c.bin)), "API_TOKENS="+token, "DRAIN_DELAY=0s",
		"HTTP_MAX_IN_FLIGHT=100000", "CREATE_RATE_LIMIT=100000")
	cmd.Env = append(cmd.Env, c.env...)
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return measurement{}, err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait() // its exit status says nothing about the measurement
	}()
	var m measurement
	if err := waitReady(base + c.ready); err != nil {
		return m, err
	}
	m.start = time.Since(began)
	m.idleRSS = rss(cmd.Process.Pid)
	if c.setup != nil {
		if err := c.setup(base); err != nil {
			return m, err
		}
	}
	// Warm up: connections open, caches filled, the runtime at speed.
	attack(base+c.path, o.connections, time.Second)

	before, err := readRuntimeStats(stats)
	if err != nil {
		return m, err
	}
	cpu0 := cpuTime(cmd.Process.Pid)
	metrics := attack(base+c.path, o.connections, o.duration)
	cpu := cpuTime(cmd.Process.Pid) - cpu0
	after, err := readRuntimeStats(stats)
	if err != nil {
		return m, err
	}
	m.loadedRSS = rss(cmd.Process.Pid)
	want := strconv.Itoa(c.status)
	if c.status == 0 {
		want = "200"
	}
	// Responses of the expected status per second; vegeta's Throughput
	// would count only 2xx and 3xx.
	m.rps = float64(metrics.StatusCodes[want]) / (metrics.Duration + metrics.Wait).Seconds()
	m.p50, m.p99 = metrics.Latencies.P50, metrics.Latencies.P99
	if metrics.Requests > 0 {
		m.cpuPerReq = cpu / time.Duration(metrics.Requests)
		m.allocsPerReq = float64(after.mallocs-before.mallocs) / float64(metrics.Requests)
		m.gcPer1k = 1000 * float64(after.gcs-before.gcs) / float64(metrics.Requests)
	}
	m.errorRatio = 1 - float64(metrics.StatusCodes[want])/float64(max(metrics.Requests, 1))
	if m.errorRatio > 0.001 {
		return m, fmt.Errorf("%.2f%% of requests did not answer %s (by status: %v): %v", 100*m.errorRatio, want, metrics.StatusCodes, metrics.Errors)
	}
	return m, nil
}

// attack sends requests back to back over n keep-alive connections.
func attack(url string, n int, d time.Duration) vegeta.Metrics {
	a := vegeta.NewAttacker(vegeta.Workers(uint64(n)), vegeta.MaxWorkers(uint64(n)),
		vegeta.Connections(n), vegeta.KeepAlive(true), vegeta.Redirects(vegeta.NoFollow),
		vegeta.Timeout(10*time.Second))
	targeter := vegeta.NewStaticTargeter(vegeta.Target{Method: "GET", URL: url})
	var m vegeta.Metrics
	for res := range a.Attack(targeter, vegeta.Rate{Freq: 0}, d, "load") {
		m.Add(res)
	}
	m.Close()
	return m
}

// runtimeStats are a server's counters of heap allocations and GC cycles.
type runtimeStats struct{ mallocs, gcs uint64 }

// readRuntimeStats reads them from the Prometheus text at url. Reading
// allocates in the server too: one scrape's worth, against a
// measurement's tens of thousands of requests.
func readRuntimeStats(url string) (runtimeStats, error) {
	resp, err := http.Get(url)
	if err != nil {
		return runtimeStats{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return runtimeStats{}, err
	}
	var s runtimeStats
	found := 0
	for _, line := range strings.Split(string(body), "\n") {
		name, value, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		var dst *uint64
		switch name {
		case "go_memstats_mallocs_total":
			dst = &s.mallocs
		case "go_gc_duration_seconds_count":
			dst = &s.gcs
		default:
			continue
		}
		f, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return s, fmt.Errorf("%s: %s: %w", url, name, err)
		}
		*dst = uint64(f)
		found++
	}
	if found != 2 {
		return s, fmt.Errorf("%s: no go_memstats_mallocs_total or go_gc_duration_seconds_count", url)
	}
	return s, nil
}

// example: the redirect case's link, down to "end of example".

// createLink makes the link the redirect case follows.
func createLink(base string) error {
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/links", strings.NewReader(`{"url":"https://example.com/target","code":"benchx"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusConflict {
		return fmt.Errorf("create link: %s", resp.Status)
	}
	return nil
}

// end of example

func waitReady(url string) error {
	c := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		resp, err := c.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return errors.New("not ready after 30s")
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// rss returns a process's resident memory in bytes, from /proc.
func rss(pid int) int64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// cpuTime returns a process's user plus system time, from /proc.
func cpuTime(pid int) time.Duration {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	s := string(b)
	// Fields after the parenthesised command name; utime and stime are
	// the 14th and 15th fields of the whole line.
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	const ticksPerSecond = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / ticksPerSecond
}

// pinSelf moves every thread of this process onto cpus.
func pinSelf(cpus string) error {
	return exec.Command("taskset", "-a", "-p", "-c", cpus, strconv.Itoa(os.Getpid())).Run()
}

// Bounds are the budget against the chi reference, per case: CPU per
// request and p99 latency, as medians of the per-round ratios.
const (
	cpuBound = 1.10
	p99Bound = 1.2
)

// report prints each case's medians, then the template's cases against
// the reference's, and the -compare server's against the template's. The
// cases come in groups of len(paths): the reference, the template, and the
// -compare server if measured.
func report(w io.Writer, cases []benchCase, results [][]measurement, reference, server string) error {
	// ratio is the median of case i's per-round ratios to case j's.
	ratio := func(i, j int, f func(measurement) float64) float64 {
		var rs []float64
		for round := range results[i] {
			rs = append(rs, f(results[i][round])/f(results[j][round]))
		}
		return median(rs)
	}
	cpu := func(m measurement) float64 { return float64(m.cpuPerReq) }
	p99 := func(m measurement) float64 { return float64(m.p99) }
	rps := func(m measurement) float64 { return m.rps }
	fmt.Fprintf(w, "\n%d rounds; medians\n\n", len(results[0]))
	fmt.Fprintln(w, "| case | req/s | p50 | p99 | CPU/req | allocs/req | GC/1k req | start | idle RSS MiB | loaded RSS MiB |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	for i, c := range cases {
		col := func(f func(measurement) float64) float64 {
			var xs []float64
			for _, m := range results[i] {
				xs = append(xs, f(m))
			}
			return median(xs)
		}
		fmt.Fprintf(w, "| %s | %.0f | %v | %v | %v | %.1f | %.2f | %v | %.1f | %.1f |\n", c.name, col(rps),
			time.Duration(col(func(m measurement) float64 { return float64(m.p50) })).Round(time.Microsecond),
			time.Duration(col(p99)).Round(time.Microsecond),
			time.Duration(col(cpu)).Round(100*time.Nanosecond),
			col(func(m measurement) float64 { return m.allocsPerReq }),
			col(func(m measurement) float64 { return m.gcPer1k }),
			time.Duration(col(func(m measurement) float64 { return float64(m.start) })).Round(time.Millisecond),
			col(func(m measurement) float64 { return float64(m.idleRSS) })/(1<<20),
			col(func(m measurement) float64 { return float64(m.loadedRSS) })/(1<<20))
	}
	n := len(paths)
	fmt.Fprintf(w, "\nthe template against the chi reference, medians of per-round ratios (bounds: CPU/req ≤ %.2f, p99 ≤ %.1f)\n\n", cpuBound, p99Bound)
	fmt.Fprintln(w, "| case | CPU/req | CPU/req spread (min, 25%, 75%, max) | p99 | req/s | within bounds |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- |")
	for k := range n {
		i, j := n+k, k
		var rs []float64
		for round := range results[i] {
			rs = append(rs, cpu(results[i][round])/cpu(results[j][round]))
		}
		c, p := ratio(i, j, cpu), ratio(i, j, p99)
		within := "yes"
		if c > cpuBound || p > p99Bound {
			within = "no"
		}
		fmt.Fprintf(w, "| %s | %.2f | %.2f, %.2f, %.2f, %.2f | %.2f | %.2f | %s |\n", paths[k].name, c,
			quantile(rs, 0), quantile(rs, 0.25), quantile(rs, 0.75), quantile(rs, 1), p, ratio(i, j, rps), within)
	}
	if len(cases) == 3*n {
		fmt.Fprintf(w, "\nthe -compare server against the template, medians of per-round ratios\n\n")
		fmt.Fprintln(w, "| case | req/s | p99 | CPU/req | allocs/req | idle RSS |")
		fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- |")
		for k := range n {
			i, j := 2*n+k, n+k
			fmt.Fprintf(w, "| %s | %.3f | %.3f | %.3f | %.3f | %.3f |\n", paths[k].name,
				ratio(i, j, rps), ratio(i, j, p99), ratio(i, j, cpu),
				ratio(i, j, func(m measurement) float64 { return m.allocsPerReq }),
				ratio(i, j, func(m measurement) float64 { return float64(m.idleRSS) }))
		}
	}
	rs, _ := os.Stat(reference)
	ss, _ := os.Stat(server)
	if rs != nil && ss != nil {
		fmt.Fprintf(w, "\nstripped binary: chi reference %.1f MiB, template server %.1f MiB\n",
			float64(rs.Size())/(1<<20), float64(ss.Size())/(1<<20))
	}
	return nil
}

// quantile returns the q-quantile of xs (0 ≤ q ≤ 1), interpolating
// linearly between the two nearest values; 0 for none.
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	pos := q * float64(len(s)-1)
	lo := int(pos)
	if lo >= len(s)-1 {
		return s[len(s)-1]
	}
	return s[lo] + (pos-float64(lo))*(s[lo+1]-s[lo])
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
