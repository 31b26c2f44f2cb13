package deploy

import (
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-shellwords"

	"github.com/dozen-go/dozen/tools/internal/proctest"
)

// TestReadmeWalkthrough runs what the README tells a newcomer to type,
// against the binaries built as the Dockerfile builds them: the curl
// commands of its opening, then the link shortener's walkthrough (### API)
// in order, with the server and the worker started with the settings its
// commands give them. Each command must get the status its comment gives,
// the Location it names, and the click count it promises (waiting for the
// worker's fold, as a reader would); a command whose comment gives no
// status must succeed (2xx). A curl option the test does not know fails
// it, so that the README cannot drift into commands nobody ran.
func TestReadmeWalkthrough(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server and the worker")
	}
	readme := readFile(t, "README.md")
	opening := readme[:strings.Index(readme, "\n## ")]
	var steps []curlStep
	for _, m := range regexp.MustCompile("`(curl [^`]+)`").FindAllStringSubmatch(opening, -1) {
		steps = append(steps, parseCurl(t, m[1], ""))
	}
	if len(steps) == 0 {
		t.Fatal("the README's opening has no `curl ...` to try")
	}
	blocks := shBlocks(readmeSection(t, readme, "### API"))
	if len(blocks) < 2 {
		t.Fatalf("### API has %d sh blocks, want the processes' start, then the walkthrough", len(blocks))
	}
	start := strings.Join(blocks[:len(blocks)-1], "\n")
	serverSettings := startSettings(t, start, "go run ./cmd/server")
	workerSettings := startSettings(t, start, "go run ./cmd/worker")
	if !slices.ContainsFunc(workerSettings, func(s string) bool {
		return strings.HasPrefix(s, "ADMIN_ADDR=") && s != "ADMIN_ADDR=127.0.0.1:9090"
	}) {
		t.Errorf("the walkthrough starts the worker with %q: beside the server it needs an ADMIN_ADDR of its own", workerSettings)
	}
	walkthrough := curlSteps(t, blocks[len(blocks)-1])
	if len(walkthrough) < 5 {
		t.Fatalf("the walkthrough has %d curl commands: the parser lost some", len(walkthrough))
	}
	if !slices.ContainsFunc(walkthrough, func(s curlStep) bool { return s.clicks > 0 }) {
		t.Error("no step of the walkthrough promises a click count above 0 (a comment saying \"clicks is N\")")
	}
	steps = append(steps, walkthrough...)

	bin := buildAsDockerfile(t)
	data := filepath.Join(t.TempDir(), "data")
	port, adminPort := strconv.Itoa(proctest.FreePort(t)), strconv.Itoa(proctest.FreePort(t))
	logs := &lockedBuffer{}
	// The README's settings first: the test's own ports and data
	// directory take their place.
	start1 := func(name string, settings []string, env ...string) <-chan struct{} {
		cmd := exec.Command(filepath.Join(bin, name))
		cmd.Env = append(append(settings, "DATA_DIR="+data, "DRAIN_DELAY=0s"), env...)
		cmd.Stdout, cmd.Stderr = logs, logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			<-exited
		})
		return exited
	}
	serverExited := start1("server", serverSettings, "PORT="+port, "ADMIN_ADDR=127.0.0.1:"+adminPort)
	proctest.WaitOK(t, "http://127.0.0.1:"+port+"/livez", serverExited)
	// As the README says: the worker once the server is up.
	workerAdmin := strconv.Itoa(proctest.FreePort(t))
	workerExited := start1("worker", workerSettings, "ADMIN_ADDR=127.0.0.1:"+workerAdmin)
	proctest.WaitOK(t, "http://127.0.0.1:"+workerAdmin+"/livez", workerExited)

	// The README's ports are the defaults; the server here has its own.
	hosts := strings.NewReplacer("localhost:8080", "127.0.0.1:"+port, "localhost:9090", "127.0.0.1:"+adminPort)
	client := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, // curl without -L
	}
	do := func(s curlStep) (*http.Response, []byte) {
		req, err := http.NewRequest(s.method, "http://"+hosts.Replace(s.url), strings.NewReader(s.body))
		if err != nil {
			t.Fatalf("%s: %v", s.line, err)
		}
		for _, h := range s.headers {
			k, v, _ := strings.Cut(h, ":")
			req.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v\nlogs:\n%s", s.line, err, logs)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, body
	}
	for _, s := range steps {
		resp, body := do(s)
		if s.clicks >= 0 {
			// The fold lags the redirect by a flush interval, the
			// job's scheduled second and the worker's poll: a reader
			// waits, so the test asks again, within a bound.
			deadline := time.Now().Add(30 * time.Second)
			for clicks(body) != s.clicks && time.Now().Before(deadline) {
				time.Sleep(250 * time.Millisecond)
				resp, body = do(s)
			}
			if got := clicks(body); got != s.clicks {
				t.Errorf("%s (%s): clicks = %d after 30 s, want %d; body %s\nlogs:\n%s", s.line, s.comment, got, s.clicks, body, logs)
			}
		}
		ok := resp.StatusCode/100 == 2
		if s.status != 0 {
			ok = resp.StatusCode == s.status
		}
		if !ok {
			t.Errorf("%s (%s) = %d %s, want %s", s.line, s.comment, resp.StatusCode, body, s.want())
		}
		if s.location != "" && resp.Header.Get("Location") != s.location {
			t.Errorf("%s: Location = %q, want %q as its comment says", s.line, resp.Header.Get("Location"), s.location)
		}
	}
}

// clicks returns the click count of a link in body, or -1.
func clicks(body []byte) int {
	var link struct {
		Clicks *int `json:"clicks"`
	}
	if json.Unmarshal(body, &link) != nil || link.Clicks == nil {
		return -1
	}
	return *link.Clicks
}

// curlStep is one curl command of the README and what its comment
// promises.
type curlStep struct {
	line, comment string
	method, url   string
	headers       []string
	body          string
	status        int    // 0: any 2xx
	location      string // "": not checked
	clicks        int    // -1: not checked
}

func (s curlStep) want() string {
	if s.status != 0 {
		return strconv.Itoa(s.status)
	}
	return "2xx"
}

// shBlocks returns the contents of the ```sh blocks of text.
func shBlocks(text string) []string {
	var blocks []string
	for _, m := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(text, -1) {
		blocks = append(blocks, m[1])
	}
	return blocks
}

// startSettings returns the variable assignments before command (such as
// `go run ./cmd/server`) in block.
func startSettings(t *testing.T, block, command string) []string {
	t.Helper()
	for _, line := range strings.Split(block, "\n") {
		before, _, ok := strings.Cut(line, command)
		if !ok {
			continue
		}
		words, err := shellwords.Parse(before)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		for _, w := range words {
			if !strings.Contains(w, "=") {
				t.Fatalf("%q: %q before go run is not a setting", line, w)
			}
		}
		return words
	}
	t.Fatalf("no `%s` in\n%s", command, block)
	return nil
}

// curlSteps returns the curl commands of block, in order, each with the
// comment line just above it.
func curlSteps(t *testing.T, block string) []curlStep {
	t.Helper()
	var steps []curlStep
	comment := ""
	for _, line := range strings.Split(strings.ReplaceAll(block, "\\\n", " "), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
			comment = ""
		case strings.HasPrefix(line, "#"):
			comment = strings.TrimSpace(strings.TrimPrefix(line, "#"))
		case strings.HasPrefix(line, "curl "):
			steps = append(steps, parseCurl(t, line, comment))
			comment = ""
		default:
			t.Fatalf("the walkthrough has a command the test cannot run: %q", line)
		}
	}
	return steps
}

var (
	commentStatus   = regexp.MustCompile(`\((\d{3})\b`)
	commentLocation = regexp.MustCompile(`Location: ([^\s,)]+)`)
	commentClicks   = regexp.MustCompile(`\bclicks is (\d+)\b`)
)

// parseCurl reads the curl options the README uses; any other fails the
// test.
func parseCurl(t *testing.T, line, comment string) curlStep {
	t.Helper()
	words, err := shellwords.Parse(line)
	if err != nil {
		t.Fatalf("%q: %v", line, err)
	}
	s := curlStep{line: strings.Join(strings.Fields(line), " "), comment: comment, clicks: -1}
	if m := commentClicks.FindStringSubmatch(comment); m != nil {
		s.clicks, _ = strconv.Atoi(m[1])
	}
	if m := commentStatus.FindStringSubmatch(comment); m != nil {
		s.status, _ = strconv.Atoi(m[1])
	}
	if m := commentLocation.FindStringSubmatch(comment); m != nil {
		s.location = m[1]
	}
	for i := 1; i < len(words); i++ {
		w := words[i]
		next := func() string {
			if i+1 >= len(words) {
				t.Fatalf("%q: %s needs a value", line, w)
			}
			i++
			return words[i]
		}
		switch {
		case w == "-X":
			s.method = next()
		case w == "-H":
			s.headers = append(s.headers, next())
		case w == "-d":
			s.body = next()
		case strings.HasPrefix(w, "-") && strings.Trim(w[1:], "si") == "" && len(w) > 1:
			// -s (silent) and -i (show the response headers) change
			// nothing in the request.
		case !strings.HasPrefix(w, "-") && s.url == "":
			s.url = w
		default:
			t.Fatalf("%q: the test does not know curl's %q", line, w)
		}
	}
	if s.url == "" {
		t.Fatalf("%q: no URL", line)
	}
	if s.method == "" {
		s.method = http.MethodGet
		if s.body != "" {
			s.method = http.MethodPost // as curl -d does
		}
	}
	return s
}

// TestReadmePointsOnlyAtWhatGonewCopies checks the READMEs of the root
// module, which a project started with gonew inherits: every relative link
// must lead to a file or directory the module holds, and no link or path
// may lead into a nested module (the linter's source, the template's
// tooling), which gonew leaves out. What lives there is named by URL or
// module path instead.
func TestReadmePointsOnlyAtWhatGonewCopies(t *testing.T) {
	files := trackedFiles(t)
	var nested []string
	out, err := exec.Command("git", "-C", root, "ls-files").Output()
	if err != nil {
		t.Skipf("git ls-files: %v", err)
	}
	for _, name := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if dir, ok := strings.CutSuffix(name, "/go.mod"); ok {
			nested = append(nested, dir)
		}
	}
	if len(nested) == 0 {
		t.Fatal("no nested module found: the test would check nothing")
	}
	exists := func(p string) bool {
		if _, ok := files[p]; ok {
			return true
		}
		for name := range files {
			if strings.HasPrefix(name, p+"/") {
				return true
			}
		}
		return false
	}
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	code := regexp.MustCompile("`[^`]*`") // Decode[T](r) is no link
	url := regexp.MustCompile(`[a-z]+://\S+`)
	var paths []*regexp.Regexp
	for _, d := range nested {
		q := regexp.QuoteMeta(d)
		paths = append(paths,
			regexp.MustCompile("(?:^|[\\s`'\"(\\[=])(?:\\./)?"+q+"/"),
			regexp.MustCompile(`(?:\bcd|-C)\s+(?:\./)?`+q+`\b`))
	}
	checked := 0
	for name := range files {
		if path.Base(name) != "README.md" {
			continue
		}
		checked++
		dir := path.Dir(name)
		text := readFile(t, name)
		for i, line := range strings.Split(text, "\n") {
			for _, m := range link.FindAllStringSubmatch(code.ReplaceAllString(line, ""), -1) {
				target, _, _ := strings.Cut(m[1], "#")
				if target == "" || strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				p := path.Clean(path.Join(dir, target))
				if !exists(p) {
					t.Errorf("%s:%d links to %s, which a project started with gonew does not have", name, i+1, m[1])
				}
			}
			plain := url.ReplaceAllString(line, "")
			for _, re := range paths {
				if m := re.FindString(plain); m != "" {
					t.Errorf("%s:%d points into a nested module (%q), which gonew leaves out: name it by URL or module path", name, i+1, strings.TrimSpace(m))
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no README.md in the root module")
	}
}
