package deploy

import (
	"bytes"
	"encoding/json"
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
// them) must pass, before and after make remove-example, which must
// leave nothing dead and nothing naming the example, and nothing may say
// "dozen" but the pinned linter path.
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
		// The go command indexes a module cache directory once and trusts
		// the index for as long as the build cache keeps it, since a
		// module version never changes; the served versions do, from run
		// to run, so this project's go commands read their files afresh.
		"GODEBUG=goindex=0",
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

// removeExample removes the example as a user would, with make
// remove-example, and checks that nothing is left dead and no file names
// what it removed.
func removeExample(t *testing.T, dir string, env []string) {
	t.Helper()
	run(t, dir, env, "make", "remove-example")
	if out := goCmd(t, dir, env, "run", "golang.org/x/tools/cmd/deadcode@"+gonewVersion, "-test", "./..."); strings.TrimSpace(out) != "" {
		t.Errorf("deadcode -test after make remove-example reports:\n%s", out)
	}
	checkNoExampleName(t, dir)
}

// exampleName matches what names the example: its package and table, its
// routes, its clicks, the target that removes it.
var exampleName = regexp.MustCompile(`(?i)\blinks\b|shortener|click|createlink|/v1/links|remove-example`)

// checkNoExampleName fails for each line of a file in dir that names the
// example, docs/ included: make remove-example deletes the evidence
// measured on it (docs/evidence) and the passages of the other documents
// marked as the example's.
func checkNoExampleName(t *testing.T, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			if rel == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		if rel == "go.sum" {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			if exampleName.MatchString(line) {
				t.Errorf("%s:%d names the removed example: %s", rel, i+1, strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil {
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
