// Command loadbench measures the server against a bare net/http server on
// the same machine in the same run, and prints the ratios: throughput and
// latency for a trivial GET through the full middleware stack, for a 404
// (a problem+json body through the whole stack), and for the redirect hot
// path; server CPU per request, start-to-ready time, idle and loaded
// memory, and binary size. It also prints the server's heap allocations
// and GC cycles per 1,000 requests, read from the process before and after
// each measurement.
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
//
// With -equivalent, the bare server is also measured as a careful service
// would configure it: sending the security headers the template sends
// (read from its response to GET /version) and with the server timeouts of
// its .env.example. The report then sets the template's cases against that
// server too: what the stack costs beyond what every well-configured
// net/http server pays.
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

// bareSource is the baseline: net/http answering a small body. A second
// listener on ADMIN_ADDR reports its allocation and GC counters under the
// names the server's /metrics gives them, so one reader serves both. For
// -equivalent, BARE_HEADERS ("Name: value" lines) are set on every
// response, from values shared as the template shares them, and the
// template's HTTP_*_TIMEOUT variables set the server's timeouts; unset,
// they change nothing.
const bareSource = `package main

import (
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strings"
	"time"
)

func main() {
	go http.ListenAndServe(os.Getenv("ADMIN_ADDR"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		fmt.Fprintf(w, "go_memstats_mallocs_total %d\ngo_gc_duration_seconds_count %d\n", m.Mallocs, m.NumGC)
	}))
	type header struct {
		name   string
		values []string
	}
	var headers []header
	for _, line := range strings.Split(os.Getenv("BARE_HEADERS"), "\n") {
		if name, value, ok := strings.Cut(line, ": "); ok {
			headers = append(headers, header{name, []string{value}})
		}
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for _, x := range headers {
			h[x.name] = x.values
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte("{\"status\":\"ok\"}\n"))
	})
	timeout := func(name string) time.Duration {
		d, _ := time.ParseDuration(os.Getenv(name))
		return d
	}
	srv := &http.Server{
		Addr:              ":" + os.Getenv("PORT"),
		ReadHeaderTimeout: timeout("HTTP_READ_HEADER_TIMEOUT"),
		ReadTimeout:       timeout("HTTP_READ_TIMEOUT"),
		WriteTimeout:      timeout("HTTP_WRITE_TIMEOUT"),
		IdleTimeout:       timeout("HTTP_IDLE_TIMEOUT"),
	}
	srv.ListenAndServe()
}
`

// options are the flags.
type options struct {
	template    string
	compare     string
	equivalent  bool
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
	fs.BoolVar(&o.equivalent, "equivalent", false, "also measure bare net/http with the template's security headers and server timeouts, and set the template against it")
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
	bare, server, err := build(ctx, o.template, dir)
	if err != nil {
		return err
	}

	cases := append([]benchCase{{name: "bare GET /", bin: bare, path: "/", ready: "/"}}, serverCases(server, "")...)
	if o.compare != "" {
		other, err := buildServer(ctx, o.compare, filepath.Join(dir, "server-compare"))
		if err != nil {
			return err
		}
		cases = append(cases, serverCases(other, compareSuffix)...)
	}
	if o.equivalent {
		eq, err := equivalentCase(ctx, bare, server, o.template, dir, o)
		if err != nil {
			return err
		}
		cases = append(cases, eq)
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
	return report(stdout, cases, results, bare, server)
}

// compareSuffix ends the names of the -compare server's cases.
const compareSuffix = " [-compare]"

// serverCases are the measurements of one server binary, their names
// ending in suffix.
func serverCases(bin, suffix string) []benchCase {
	return []benchCase{
		{name: "dozen GET /version (full stack)" + suffix, bin: bin, path: "/version", ready: "/readyz"},
		{name: "dozen GET /no/such/path (404 problem)" + suffix, bin: bin, path: "/no/such/path", ready: "/readyz", status: http.StatusNotFound},
		{name: "dozen GET /{code} (redirect, warm cache)" + suffix, bin: bin, path: "/benchx", ready: "/readyz", status: http.StatusFound, setup: createLink}, // example
	}
}

// equivalentCase returns the bare server configured as the template is:
// the headers the template's server sends on GET /version that are not its
// own bookkeeping (the security headers), and the server timeouts of the
// template's .env.example.
func equivalentCase(ctx context.Context, bare, server, template, dir string, o options) (benchCase, error) {
	var headers []string
	probe := benchCase{name: "probe", bin: server, path: "/version", ready: "/readyz", setup: func(base string) error {
		resp, err := http.Get(base + "/version")
		if err != nil {
			return err
		}
		resp.Body.Close()
		for name, values := range resp.Header {
			switch name {
			case "Content-Type", "Content-Length", "Date", "X-Request-Id": // what bare sends too, or the stack's own
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
		return benchCase{}, fmt.Errorf("reading the template's headers: %w", err)
	}
	if len(headers) == 0 {
		return benchCase{}, errors.New("the template's GET /version sent no headers beyond the usual: nothing to be equivalent to")
	}
	slices.Sort(headers)
	timeouts, err := serverTimeouts(filepath.Join(template, ".env.example"))
	if err != nil {
		return benchCase{}, err
	}
	return benchCase{
		name: "bare GET /, the template's headers and timeouts", bin: bare, path: "/", ready: "/",
		env: append([]string{"BARE_HEADERS=" + strings.Join(headers, "\n")}, timeouts...), equivalent: true,
	}, nil
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

// build compiles both servers as the Dockerfile does.
func build(ctx context.Context, template, dir string) (bare, server string, err error) {
	if bare, err = buildBare(ctx, dir); err != nil {
		return "", "", err
	}
	server, err = buildServer(ctx, template, filepath.Join(dir, "server"))
	return bare, server, err
}

// buildBare compiles bareSource into dir.
func buildBare(ctx context.Context, dir string) (string, error) {
	src := filepath.Join(dir, "bare.go")
	if err := os.WriteFile(src, []byte(bareSource), 0o644); err != nil {
		return "", err
	}
	bare := filepath.Join(dir, "bare")
	return bare, goBuild(ctx, "", bare, src)
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
	// equivalent marks the bare server configured as the template is.
	equivalent bool
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
	cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port), "ADMIN_ADDR=127.0.0.1:"+strconv.Itoa(adminPort),
		"DATA_DIR="+filepath.Join(dir, "data"), "API_TOKENS="+token, "DRAIN_DELAY=0s",
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

// report prints the medians of the per-round ratios to the bare server.
func report(w io.Writer, cases []benchCase, results [][]measurement, bare, server string) error {
	// ratio is the median of case i's per-round ratios to case j's.
	ratio := func(i, j int, f func(measurement) float64) float64 {
		var rs []float64
		for round := range results[i] {
			rs = append(rs, f(results[i][round])/f(results[j][round]))
		}
		return median(rs)
	}
	fmt.Fprintf(w, "\n%d rounds; medians of per-round ratios to the bare server\n\n", len(results[0]))
	fmt.Fprintln(w, "| case | req/s | × bare | p50 × bare | p99 × bare | CPU/req × bare | allocs/req | GC/1k req | start × bare | idle RSS × bare | loaded RSS × bare |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	for i, c := range cases {
		var rps, allocs, gcs []float64
		for _, m := range results[i] {
			rps = append(rps, m.rps)
			allocs = append(allocs, m.allocsPerReq)
			gcs = append(gcs, m.gcPer1k)
		}
		fmt.Fprintf(w, "| %s | %.0f | %.2f | %.2f | %.2f | %.2f | %.1f | %.2f | %.2f | %.2f | %.2f |\n", c.name, median(rps),
			ratio(i, 0, func(m measurement) float64 { return m.rps }),
			ratio(i, 0, func(m measurement) float64 { return float64(m.p50) }),
			ratio(i, 0, func(m measurement) float64 { return float64(m.p99) }),
			ratio(i, 0, func(m measurement) float64 { return float64(m.cpuPerReq) }),
			median(allocs), median(gcs),
			ratio(i, 0, func(m measurement) float64 { return float64(m.start) }),
			ratio(i, 0, func(m measurement) float64 { return float64(m.idleRSS) }),
			ratio(i, 0, func(m measurement) float64 { return float64(m.loadedRSS) }))
	}
	// A median hides how far single rounds swing on a busy machine; the
	// spread of the CPU ratio says how much one run can be trusted.
	fmt.Fprintf(w, "\nCPU/req × bare, the spread of the per-round ratios\n\n")
	fmt.Fprintln(w, "| case | min | 25% | median | 75% | max |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- |")
	for i, c := range cases[1:] {
		var rs []float64
		for round := range results[0] {
			rs = append(rs, float64(results[i+1][round].cpuPerReq)/float64(results[0][round].cpuPerReq))
		}
		fmt.Fprintf(w, "| %s | %.2f | %.2f | %.2f | %.2f | %.2f |\n", c.name,
			quantile(rs, 0), quantile(rs, 0.25), median(rs), quantile(rs, 0.75), quantile(rs, 1))
	}
	// The first server's cases, the -compare server's (in the same order)
	// and the equivalent bare server, if measured.
	var first, compared []int
	equivalent := -1
	for i, c := range cases[1:] {
		switch {
		case c.equivalent:
			equivalent = i + 1
		case strings.HasSuffix(c.name, compareSuffix):
			compared = append(compared, i+1)
		default:
			first = append(first, i+1)
		}
	}
	if len(compared) == len(first) && len(compared) > 0 {
		fmt.Fprintf(w, "\nthe -compare server against the first, medians of per-round ratios\n\n")
		fmt.Fprintln(w, "| case | req/s | p99 | CPU/req | allocs/req | idle RSS |")
		fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- |")
		for k, i := range first {
			pair := func(f func(measurement) float64) float64 { return ratio(compared[k], i, f) }

			fmt.Fprintf(w, "| %s | %.3f | %.3f | %.3f | %.3f | %.3f |\n", cases[i].name,
				pair(func(m measurement) float64 { return m.rps }),
				pair(func(m measurement) float64 { return float64(m.p99) }),
				pair(func(m measurement) float64 { return float64(m.cpuPerReq) }),
				pair(func(m measurement) float64 { return m.allocsPerReq }),
				pair(func(m measurement) float64 { return float64(m.idleRSS) }))
		}
	}
	if equivalent >= 0 {
		fmt.Fprintf(w, "\nthe template against bare with its headers and timeouts: each case's per-round ratios to that server, medians\n\n")
		fmt.Fprintln(w, "| case | req/s × equivalent | p99 × equivalent | CPU/req × equivalent |")
		fmt.Fprintln(w, "| --- | --- | --- | --- |")
		for _, i := range first {
			against := func(f func(measurement) float64) float64 { return ratio(i, equivalent, f) }

			fmt.Fprintf(w, "| %s | %.2f | %.2f | %.2f |\n", cases[i].name,
				against(func(m measurement) float64 { return m.rps }),
				against(func(m measurement) float64 { return float64(m.p99) }),
				against(func(m measurement) float64 { return float64(m.cpuPerReq) }))
		}
	}
	bs, _ := os.Stat(bare)
	ss, _ := os.Stat(server)
	if bs != nil && ss != nil {
		fmt.Fprintf(w, "\nstripped binary: bare %.1f MiB, server %.1f MiB (%.2f× bare)\n",
			float64(bs.Size())/(1<<20), float64(ss.Size())/(1<<20), float64(ss.Size())/float64(bs.Size()))
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
