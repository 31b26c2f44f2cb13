package deploy

import (
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-shellwords"

	"github.com/dozen-go/dozen/tools/internal/proctest"
)

// TestReadmeWalkthrough runs what the README tells a newcomer to type,
// against the server built as the Dockerfile builds it: the curl commands
// of its opening, then the link shortener's walkthrough (### API) in
// order, with the settings of the command it starts the server with. Each
// command must get the status its comment gives, and the Location it
// names; a command whose comment gives none must succeed (2xx). A curl
// option the test does not know fails it, so that the README cannot drift
// into commands nobody ran.
func TestReadmeWalkthrough(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server")
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
	if len(blocks) != 2 {
		t.Fatalf("### API has %d sh blocks, want 2: the server's start, then the walkthrough", len(blocks))
	}
	settings := startSettings(t, blocks[0])
	walkthrough := curlSteps(t, blocks[1])
	if len(walkthrough) < 5 {
		t.Fatalf("the walkthrough has %d curl commands: the parser lost some", len(walkthrough))
	}
	steps = append(steps, walkthrough...)

	bin := buildAsDockerfile(t)
	port, adminPort := strconv.Itoa(proctest.FreePort(t)), strconv.Itoa(proctest.FreePort(t))
	server := exec.Command(filepath.Join(bin, "server"))
	server.Env = append([]string{
		"PORT=" + port, "ADMIN_ADDR=127.0.0.1:" + adminPort,
		"DATA_DIR=" + filepath.Join(t.TempDir(), "data"), "DRAIN_DELAY=0s",
	}, settings...)
	logs := &lockedBuffer{}
	server.Stdout, server.Stderr = logs, logs
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = server.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = server.Process.Kill()
		<-exited
	})
	proctest.WaitOK(t, "http://127.0.0.1:"+port+"/livez", exited)

	// The README's ports are the defaults; the server here has its own.
	hosts := strings.NewReplacer("localhost:8080", "127.0.0.1:"+port, "localhost:9090", "127.0.0.1:"+adminPort)
	client := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, // curl without -L
	}
	for _, s := range steps {
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
			t.Fatalf("%s: %v\nserver log:\n%s", s.line, err, logs)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
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

// curlStep is one curl command of the README and what its comment
// promises.
type curlStep struct {
	line, comment string
	method, url   string
	headers       []string
	body          string
	status        int    // 0: any 2xx
	location      string // "": not checked
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

// startSettings returns the variable assignments before `go run
// ./cmd/server` in block.
func startSettings(t *testing.T, block string) []string {
	t.Helper()
	for _, line := range strings.Split(block, "\n") {
		before, _, ok := strings.Cut(line, "go run ./cmd/server")
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
	t.Fatalf("no `go run ./cmd/server` in\n%s", block)
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
)

// parseCurl reads the curl options the README uses; any other fails the
// test.
func parseCurl(t *testing.T, line, comment string) curlStep {
	t.Helper()
	words, err := shellwords.Parse(line)
	if err != nil {
		t.Fatalf("%q: %v", line, err)
	}
	s := curlStep{line: strings.Join(strings.Fields(line), " "), comment: comment}
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
