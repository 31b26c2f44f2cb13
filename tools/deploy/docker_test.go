package deploy

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/mattn/go-shellwords"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"

	"github.com/dozen-go/dozen/internal/config"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd  string // upper case: FROM, RUN, ...
	args string
}

// stage is one FROM and the instructions up to the next.
type stage struct {
	from string // the image reference
	name string // the AS name, if any
	body []instruction
}

// parseDockerfile splits a Dockerfile into stages. Comments, blank lines
// and the parser directives before the first FROM are skipped.
func parseDockerfile(t *testing.T, text string) []stage {
	t.Helper()
	var stages []stage
	var line strings.Builder
	for _, raw := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(raw)
		if strings.HasPrefix(trimmed, "#") || (trimmed == "" && line.Len() == 0) {
			continue
		}
		if s, ok := strings.CutSuffix(trimmed, "\\"); ok {
			line.WriteString(s + " ")
			continue
		}
		line.WriteString(trimmed)
		cmd, args, _ := strings.Cut(strings.TrimSpace(line.String()), " ")
		line.Reset()
		in := instruction{strings.ToUpper(cmd), strings.Join(strings.Fields(args), " ")}
		if in.cmd == "FROM" {
			f := strings.Fields(in.args)
			f = slices.DeleteFunc(f, func(s string) bool { return strings.HasPrefix(s, "--platform=") })
			st := stage{from: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.name = f[2]
			}
			stages = append(stages, st)
			continue
		}
		if len(stages) == 0 {
			if in.cmd != "ARG" {
				t.Fatalf("Dockerfile: %s before the first FROM", in.cmd)
			}
			continue
		}
		stages[len(stages)-1].body = append(stages[len(stages)-1].body, in)
	}
	if len(stages) == 0 {
		t.Fatal("Dockerfile has no FROM")
	}
	return stages
}

// buildCommand finds the RUN instruction that builds the binaries and
// returns its environment assignments and the go build arguments.
func buildCommand(t *testing.T, stages []stage) (env, args []string) {
	t.Helper()
	for _, st := range stages {
		for _, in := range st.body {
			if in.cmd != "RUN" || !strings.Contains(in.args, "go build") {
				continue
			}
			words, err := shellwords.Parse(in.args)
			if err != nil {
				t.Fatalf("Dockerfile RUN %s: %v", in.args, err)
			}
			words = slices.DeleteFunc(words, func(w string) bool { return strings.HasPrefix(w, "--mount=") })
			i := slices.Index(words, "go")
			if i < 0 || i+1 >= len(words) || words[i+1] != "build" {
				t.Fatalf("Dockerfile RUN %s: want [NAME=VALUE...] go build ...", in.args)
			}
			return words[:i], words[i+2:]
		}
	}
	t.Fatal("Dockerfile has no RUN ... go build")
	return nil, nil
}

var digestRef = regexp.MustCompile(`^[a-z0-9./-]+:[A-Za-z0-9._-]+@sha256:[0-9a-f]{64}$`)

func TestDockerfile(t *testing.T) {
	stages := parseDockerfile(t, readFile(t, "Dockerfile"))
	if len(stages) < 2 {
		t.Fatalf("Dockerfile has %d stage, want a build stage and a final stage", len(stages))
	}
	for _, st := range stages {
		if !digestRef.MatchString(st.from) {
			t.Errorf("FROM %s: want an image pinned by tag and digest (name:tag@sha256:...)", st.from)
		}
	}
	final := stages[len(stages)-1]
	// The binaries read the system's CA roots for TLS (a DATABASE_URL with
	// sslmode=require, rediss://, an https OTLP endpoint); distroless
	// static ships them in /etc/ssl/certs/ca-certificates.crt, scratch
	// has none.
	if !strings.Contains(final.from, "distroless/static") {
		t.Errorf("final FROM %s: want distroless static, which holds the CA roots the binaries read, not a toolchain image or scratch", final.from)
	}

	last := map[string]string{} // final stage: the last argument of each instruction
	for _, in := range final.body {
		last[in.cmd] = in.args
	}
	if u := last["USER"]; !regexp.MustCompile(`^[1-9][0-9]*(:[0-9]+)?$`).MatchString(u) {
		t.Errorf("final USER = %q, want a numeric non-root uid[:gid]", u)
	}
	port := defaultOf(t, "PORT")
	if got := last["EXPOSE"]; got != port && got != port+"/tcp" {
		t.Errorf("EXPOSE %s, want the default PORT %s", got, port)
	}
	for _, label := range []string{"title", "version", "revision", "created", "source"} {
		if !strings.Contains(last["LABEL"], "org.opencontainers.image."+label+"=") {
			t.Errorf("final LABEL lacks org.opencontainers.image.%s", label)
		}
	}
	if !slices.ContainsFunc(final.body, func(in instruction) bool {
		return in.cmd == "COPY" && strings.HasPrefix(in.args, "--from="+stages[0].name+" /out/ ")
	}) {
		t.Errorf("final stage does not COPY --from=%s /out/ (every binary the build stage made)", stages[0].name)
	}

	var runs string
	for _, in := range stages[0].body {
		if in.cmd == "RUN" {
			runs += in.args + "\n"
		}
	}
	for _, mount := range []string{"type=cache,target=/go/pkg/mod", "type=cache,target=/root/.cache/go-build"} {
		if !strings.Contains(runs, "--mount="+mount) {
			t.Errorf("build stage has no RUN --mount=%s", mount)
		}
	}

	env, args := buildCommand(t, stages)
	if !slices.Contains(env, "CGO_ENABLED=0") {
		t.Errorf("go build environment %q lacks CGO_ENABLED=0", env)
	}
	for _, flag := range []string{"-trimpath", "-ldflags=-s -w"} {
		if !slices.Contains(args, flag) {
			t.Errorf("go build %q lacks %s", args, flag)
		}
	}
	for _, p := range processes {
		if !slices.Contains(args, "./cmd/"+p.cmd) {
			t.Errorf("go build %q does not build ./cmd/%s", args, p.cmd)
		}
	}
	for _, a := range args {
		if cmd, ok := strings.CutPrefix(a, "./cmd/"); ok {
			if _, ok := processOf(cmd); !ok {
				t.Errorf("go build builds ./cmd/%s, which is not a process type", cmd)
			}
		}
	}
}

// defaultOf returns a setting's default from internal/config.
func defaultOf(t *testing.T, name string) string {
	t.Helper()
	for _, v := range config.Vars(&config.Config{}) {
		if v.Name == name {
			return v.Default
		}
	}
	t.Fatalf("internal/config has no setting %s", name)
	return ""
}

// dockerContext copies into a new directory the files that docker build
// would send: the working tree less what .dockerignore excludes.
func dockerContext(t *testing.T) string {
	t.Helper()
	f, err := os.Open(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var sent []string
	for _, name := range workingTree(t) {
		excluded, err := pm.MatchesOrParentMatches(name)
		if err != nil {
			t.Fatal(err)
		}
		if !excluded {
			copyFile(t, filepath.Join(root, name), filepath.Join(dir, name))
			sent = append(sent, name)
		}
	}
	for _, secret := range []string{".env", ".git/config"} {
		if ok, _ := pm.MatchesOrParentMatches(secret); !ok {
			t.Errorf(".dockerignore lets %s into the build context", secret)
		}
	}
	t.Logf("build context: %d files", len(sent))
	return dir
}

// workingTree lists the files of the working tree that git does not
// ignore, relative to the root, with forward slashes.
func workingTree(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("git", "-C", root, "ls-files", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Skipf("git ls-files: %v (the test needs a git checkout)", err)
	}
	var files []string
	for _, f := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if _, err := os.Lstat(filepath.Join(root, f)); err == nil { // skip deleted files
			files = append(files, f)
		}
	}
	return files
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	info, err := src.Stat()
	if err != nil {
		t.Fatal(err)
	}
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, info.Mode().Perm())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}

// buildAsDockerfile runs the Dockerfile's go build command, flags and
// environment included, in a copy of the build context, and returns the
// directory holding the binaries.
func buildAsDockerfile(t *testing.T) string {
	t.Helper()
	env, args := buildCommand(t, parseDockerfile(t, readFile(t, "Dockerfile")))
	out := t.TempDir()
	i := slices.Index(args, "-o")
	if i < 0 || i+1 >= len(args) {
		t.Fatalf("go build %q: want -o DIR/", args)
	}
	args = slices.Clone(args)
	args[i+1] = out + string(filepath.Separator)
	// GOOS and GOARCH come from BuildKit's TARGETOS/TARGETARCH: here, the host.
	env = slices.DeleteFunc(env, func(e string) bool { return strings.Contains(e, "$") })
	goCmd(t, dockerContext(t), env, append([]string{"build"}, args...)...)
	return out
}

// TestImageRunsOnEmptyRoot builds the binaries as the Dockerfile does and
// runs each process chrooted into a directory holding nothing but the
// binaries and an empty /tmp, with no environment besides its settings:
// no shell, no CA bundle, no time zone data, no /etc. The release process
// must exit 0; then web must answer /livez, the others must listen, and
// all must exit 0 on SIGTERM. Only TLS needs the image: its CA roots,
// which TestDockerfile requires of the final stage.
func TestImageRunsOnEmptyRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chroot needs root; run the tests as root to check the binaries on an empty filesystem")
	}
	bin := buildAsDockerfile(t)
	empty := t.TempDir()
	for _, p := range processes {
		info, err := os.Stat(filepath.Join(bin, p.cmd))
		if err != nil {
			t.Fatalf("the Dockerfile's build made no %s: %v", p.cmd, err)
		}
		t.Logf("%s: %d bytes (%.1f MiB)", p.cmd, info.Size(), float64(info.Size())/(1<<20))
		copyFile(t, filepath.Join(bin, p.cmd), filepath.Join(empty, p.cmd))
	}
	for _, r := range (appRun{bin: empty, chroot: true}).start(t) {
		r.stop(t)
	}
}

// TestBinariesEmbedTimeZoneData checks that every process embeds time zone
// data, so that time.LoadLocation works whatever the image holds.
func TestBinariesEmbedTimeZoneData(t *testing.T) {
	for _, p := range processes {
		deps := strings.Fields(goCmd(t, root, nil, "list", "-deps", "./cmd/"+p.cmd))
		if !slices.Contains(deps, "time/tzdata") {
			t.Errorf("cmd/%s does not import time/tzdata: import it for its side effect in main.go", p.cmd)
		}
	}
}
