package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"
)

// gonewVersion is the x/tools release whose gonew the contract runs, and
// the one every x/tools command the README and docs run is pinned to.
const gonewVersion = "v0.52.0"

// TestXToolsPinnedOnce checks that the README and the docs run gonew and
// every other x/tools command at gonewVersion, the version the contract
// test runs: never @latest, never two versions.
func TestXToolsPinnedOnce(t *testing.T) {
	names := []string{"README.md"}
	for name := range trackedFiles(t) {
		if strings.HasPrefix(name, "docs/") && strings.HasSuffix(name, ".md") {
			names = append(names, name)
		}
	}
	pin := regexp.MustCompile(`golang\.org/x/tools/cmd/([a-z]+)@(\S+)`)
	found := 0
	for _, name := range names {
		for _, m := range pin.FindAllStringSubmatch(readFile(t, name), -1) {
			found++
			if m[2] != gonewVersion {
				t.Errorf("%s runs %s@%s, want @%s, the version the gonew contract runs", name, m[1], m[2], gonewVersion)
			}
		}
	}
	if !strings.Contains(readFile(t, "README.md"), "golang.org/x/tools/cmd/gonew@"+gonewVersion+" ") {
		t.Errorf("the README does not run gonew@%s", gonewVersion)
	}
	if found == 0 {
		t.Error("no x/tools command found: the pattern is wrong")
	}
}

// templateVersion is the version the file proxy serves the template at.
const templateVersion = "v0.1.0"

// newModule is the README's example module path.
const newModule = "example.com/acme/orders"

// TestGonewContract starts a project as the README says, from modules
// served the way the public proxy would serve them: gonew with the
// README's example path, the README's rename step, git init, a commit;
// then build, vet, the short tests, golangci-lint and the linter (by
// module path at its pinned version, as the Makefile's lint target runs
// them) must pass, before and after the README's "Removing the example"
// steps, and nothing may say "dozen" but the pinned linter path.
func TestGonewContract(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a new project and runs its linters: minutes")
	}
	start := time.Now()
	mod := modulePath(t)
	linterVer := linterVersion(t)
	proxy := t.TempDir()
	serveModule(t, proxy, mod, templateVersion, ".")
	serveModule(t, proxy, linterModule(t), linterVer, "twelvefactor")

	// Everything else comes from the usual proxy, through the machine's
	// module cache. The served versions must not outlive the test there:
	// the next run serves other code under the same versions.
	cache := strings.TrimSpace(goCmd(t, ".", nil, "env", "GOMODCACHE"))
	purge := func() { purgeModuleCache(t, cache, mod) }
	purge()
	t.Cleanup(purge)
	upstream := strings.TrimSpace(goCmd(t, ".", nil, "env", "GOPROXY"))
	env := []string{
		"GOPROXY=file://" + filepath.ToSlash(proxy) + "," + upstream,
		"GONOSUMDB=" + mod, // not published: the checksum database does not know it
		// The new project's short tests run without Postgres or Redis.
		"TEST_DATABASE_URL=", "TEST_REDIS_URL=", "REQUIRE_INTEGRATION_TESTS=",
		// golangci-lint refuses to start while another run holds its lock
		// file in the temporary directory, whichever project that run is
		// linting: this project's runs get a directory of their own.
		"TMPDIR=" + t.TempDir(),
	}
	work := t.TempDir()
	goCmd(t, work, env, "run", "golang.org/x/tools/cmd/gonew@"+gonewVersion, mod+"@"+templateVersion, newModule)
	dir := filepath.Join(work, path.Base(newModule))
	renameProject(t, dir, env)
	checkNoTemplateName(t, dir)
	for _, args := range [][]string{
		{"init", "-q"},
		{"add", "-A"},
		{"-c", "user.name=dozen", "-c", "user.email=dozen@example.com", "commit", "-q", "-m", "Start from the template"},
	} {
		run(t, dir, env, "git", args...)
	}
	if got := strings.TrimSpace(goCmd(t, dir, env, "list", "-m")); got != newModule {
		t.Fatalf("go list -m in the new project = %s, want %s", got, newModule)
	}
	t.Logf("gonew project ready after %s", time.Since(start).Round(time.Second))
	checkProject(t, dir, env, "as started")

	removeExample(t, dir, env)
	checkProject(t, dir, env, "without the example")
	checkNoTemplateName(t, dir)
	t.Logf("contract checked in %s", time.Since(start).Round(time.Second))
}

// checkProject runs what a team runs on its service.
func checkProject(t *testing.T, dir string, env []string, state string) {
	t.Helper()
	start := time.Now()
	goCmd(t, dir, env, "build", "./...")
	goCmd(t, dir, env, "vet", "./...")
	goCmd(t, dir, env, "test", "-short", "-count=1", "./...")
	run(t, dir, env, "make", "lint")
	t.Logf("%s: build, vet, test -short, make lint green in %s", state, time.Since(start).Round(time.Second))
}

// run runs a command in dir, failing the test with its output if it fails.
func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s in %s: %v\n%s", name, strings.Join(args, " "), dir, err, out)
	}
	return string(out)
}

// serveModule writes the module in the repository directory dir (its
// files that git tracks or would track) into a file proxy at version, as
// the public proxy serves a published module: the zip that
// golang.org/x/mod/zip makes, the go.mod, the info and the version list.
func serveModule(t *testing.T, proxy, mod, version, dir string) {
	t.Helper()
	out := run(t, filepath.Join(root, dir), nil, "git", "ls-files", "--cached", "--others", "--exclude-standard", ".")
	var files []modzip.File
	for _, name := range strings.Split(strings.TrimSpace(out), "\n") {
		if _, err := os.Lstat(filepath.Join(root, dir, name)); err != nil {
			continue // deleted in the working tree
		}
		files = append(files, zipFile{filepath.Join(root, dir), name})
	}
	esc, err := module.EscapePath(mod)
	if err != nil {
		t.Fatal(err)
	}
	at := filepath.Join(proxy, filepath.FromSlash(esc), "@v")
	if err := os.MkdirAll(at, 0o755); err != nil {
		t.Fatal(err)
	}
	var zip bytes.Buffer
	if err := modzip.Create(&zip, module.Version{Path: mod, Version: version}, files); err != nil {
		t.Fatalf("zip %s: %v", mod, err)
	}
	gomod, err := os.ReadFile(filepath.Join(root, dir, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	info, _ := json.Marshal(map[string]string{"Version": version, "Time": time.Now().UTC().Format(time.RFC3339)})
	for name, data := range map[string][]byte{
		version + ".zip":  zip.Bytes(),
		version + ".mod":  gomod,
		version + ".info": info,
		"list":            []byte(version + "\n"),
	} {
		if err := os.WriteFile(filepath.Join(at, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// purgeModuleCache removes mod and the modules under its path from the
// module cache, whose files are read-only.
func purgeModuleCache(t *testing.T, cache, mod string) {
	t.Helper()
	esc, err := module.EscapePath(mod)
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{filepath.Join(cache, filepath.FromSlash(esc)), filepath.Join(cache, "cache", "download", filepath.FromSlash(esc))} {
		parent, base := filepath.Dir(dir), filepath.Base(dir)
		matches, _ := filepath.Glob(filepath.Join(parent, base+"*")) // mod@version directories too
		for _, m := range matches {
			if filepath.Base(m) != base && !strings.HasPrefix(filepath.Base(m), base+"@") {
				continue
			}
			_ = filepath.WalkDir(m, func(p string, d fs.DirEntry, err error) error {
				if err == nil && d.IsDir() {
					_ = os.Chmod(p, 0o755)
				}
				return nil
			})
			if err := os.RemoveAll(m); err != nil {
				t.Fatalf("purge %s from the module cache: %v", mod, err)
			}
		}
	}
}

// zipFile is a file of the module for golang.org/x/mod/zip.
type zipFile struct{ dir, name string }

func (f zipFile) Path() string                 { return f.name }
func (f zipFile) Lstat() (fs.FileInfo, error)  { return os.Lstat(filepath.Join(f.dir, f.name)) }
func (f zipFile) Open() (io.ReadCloser, error) { return os.Open(filepath.Join(f.dir, f.name)) }

// removeExample does the README's "Removing the example" steps: the shell
// blocks of steps 1 and 3 as written, step 2's deletion of the marked
// lines and blocks, and step 4's app.json settings.
func removeExample(t *testing.T, dir string, env []string) {
	t.Helper()
	section := readmeSection(t, readFile(t, "README.md"), "## Removing the example")
	blocks := regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(section, -1)
	if len(blocks) != 3 {
		t.Fatalf("README's Removing the example has %d sh blocks, want 3 (delete, list, tidy)", len(blocks))
	}
	sh := func(block string) {
		t.Helper()
		script := regexp.MustCompile(`(?m)^ +`).ReplaceAllString(block, "")
		run(t, dir, env, "bash", "-euo", "pipefail", "-c", script)
	}
	sh(blocks[0][1])
	deleteMarked(t, dir)
	sh(blocks[2][1])

	step4 := section[strings.Index(section, "\n4. "):]
	if end := strings.Index(step4[1:], "\n\n"); end >= 0 {
		step4 = step4[:end+1]
	}
	names := regexp.MustCompile("`([A-Z][A-Z0-9_]+)`").FindAllStringSubmatch(step4, -1)
	if len(names) == 0 {
		t.Fatal("README's step 4 names no app.json setting")
	}
	app := filepath.Join(dir, "app.json")
	b, err := os.ReadFile(app)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		entry := regexp.MustCompile(`(?s)\n\s*"` + n[1] + `": \{.*?\n\s*\},?`)
		if !entry.Match(b) {
			t.Fatalf("app.json has no env entry %s, which the README's step 4 deletes", n[1])
		}
		b = entry.ReplaceAll(b, nil)
	}
	b = regexp.MustCompile(`,(\s*\})`).ReplaceAll(b, []byte("$1"))
	if !json.Valid(b) {
		t.Fatalf("app.json after step 4 is not JSON:\n%s", b)
	}
	if err := os.WriteFile(app, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// readmeSection returns the README from the heading to the next heading
// of the same level.
func readmeSection(t *testing.T, readme, heading string) string {
	t.Helper()
	i := strings.Index(readme, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("README has no %q", heading)
	}
	rest := readme[i+len(heading)+2:]
	level := heading[:strings.Index(heading, " ")+1]
	for _, next := range []string{"\n## ", "\n" + level} {
		if j := strings.Index(rest, next); j >= 0 {
			rest = rest[:j]
		}
	}
	return rest
}

// marked matches the lines step 2 deletes: a line ending in an example
// marker, and the start and end of a marked block.
var (
	markedLine  = regexp.MustCompile(`(//|#) example$`)
	markedStart = regexp.MustCompile(`(//|#) example:`)
	markedEnd   = regexp.MustCompile(`(//|#) end of example`)
)

// deleteMarked does step 2 in cmd, internal and .ci, as its grep lists.
func deleteMarked(t *testing.T, dir string) {
	t.Helper()
	for _, top := range []string{"cmd", "internal", ".ci"} {
		err := filepath.WalkDir(filepath.Join(dir, top), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil || !bytes.Contains(b, []byte("example")) {
				return err
			}
			var kept []string
			inBlock := false
			for _, l := range strings.Split(string(b), "\n") {
				trimmed := strings.TrimRight(l, " \t")
				switch {
				case inBlock:
					inBlock = !markedEnd.MatchString(trimmed)
				case markedStart.MatchString(trimmed):
					inBlock = !markedEnd.MatchString(trimmed)
				case markedLine.MatchString(trimmed):
				default:
					kept = append(kept, l)
				}
			}
			if inBlock {
				return fmt.Errorf("%s: an example block without its end of example", p)
			}
			return os.WriteFile(p, []byte(strings.Join(kept, "\n")), 0o644)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
