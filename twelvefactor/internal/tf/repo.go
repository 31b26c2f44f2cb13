package tf

import (
	"bytes"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// Repo is the set of files of the repository being checked, with vendor/,
// testdata/, version control and editor directories left out.
type Repo struct {
	// Root is the repository's directory.
	Root string
	// Files are slash-separated paths relative to Root, sorted.
	Files []string

	cache map[string][]byte
}

// skipDir reports whether a directory's files are not part of the checked
// codebase.
func skipDir(name string) bool {
	switch name {
	case "vendor", "testdata", "node_modules", ".git", ".hg", ".svn", ".idea", ".vscode":
		return true
	}
	return strings.HasPrefix(name, "_")
}

// OpenRepo lists the files under root.
func OpenRepo(root string) (*Repo, error) {
	r := &Repo{Root: root, cache: make(map[string][]byte)}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && skipDir(d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		r.Files = append(r.Files, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list files: %w", err)
	}
	slices.Sort(r.Files)
	return r, nil
}

// Has reports whether the file exists in the listing.
func (r *Repo) Has(rel string) bool {
	_, ok := slices.BinarySearch(r.Files, rel)
	return ok
}

// Match returns the files for which keep returns true.
func (r *Repo) Match(keep func(rel string) bool) []string {
	var out []string
	for _, f := range r.Files {
		if keep(f) {
			out = append(out, f)
		}
	}
	return out
}

// Read returns a file's content, or nil for a file that is not in the
// listing (missing, or not a regular file), too large or binary.
func (r *Repo) Read(rel string) []byte {
	if b, ok := r.cache[rel]; ok {
		return b
	}
	var b []byte
	if r.Has(rel) {
		b, _ = ReadRegular(filepath.Join(r.Root, filepath.FromSlash(rel)), MaxFileSize)
		if bytes.IndexByte(b, 0) >= 0 {
			b = nil
		}
	}
	r.cache[rel] = b
	return b
}

// Base returns the file name of a slash path, lowercased.
func Base(rel string) string { return strings.ToLower(path.Base(rel)) }

// Suppressions parses the suppression comments of every text file.
func (r *Repo) Suppressions() []Suppression {
	var sups []Suppression
	for _, f := range r.Files {
		sups = append(sups, ParseSuppressions(f, r.Read(f))...)
	}
	return sups
}

// outsideDirs are directory names that hold test infrastructure (mock
// servers, conformance images, test dummies, fixture keys), development
// tools or example programs. They are not the service, so the rules about
// the service's code, images and secrets skip them.
var outsideDirs = map[string]bool{
	"test": true, "tests": true, "e2e": true, "testing": true, "cypress": true,
	"fixtures": true, "testutil": true, "testhelpers": true, "example": true, "examples": true,
	"integration": true, "integration-tests": true, "integrationtest": true,
	"mocks": true, "devtools": true, "hack": true, "benchmarks": true,
	"testdata": true, "dummy": true, "dummies": true,
	"it": true, "smoke": true, "loadtest": true, "loadtests": true,
	"dredd": true, "newman": true, "postman": true, "k6": true, "locust": true, "jmeter": true,
	"playwright": true, "schemathesis": true, "hurl": true, "venom": true,
}

// OutsideService reports whether a slash path is inside a test or example
// directory.
func OutsideService(rel string) bool {
	dirs := strings.Split(rel, "/")
	for _, d := range dirs[:len(dirs)-1] {
		if outsideDirs[d] {
			return true
		}
		// integration-test, e2e_tests, load-testing: the words of a
		// compound name count too.
		for _, w := range strings.FieldsFunc(d, func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
			if outsideWords[w] {
				return true
			}
		}
		// apitest, dbtest, pgtest: a package of test helpers.
		if len(d) > len("test") && strings.HasSuffix(d, "test") && d != "latest" {
			return true
		}
	}
	return false
}

// outsideWords are the words of directory names that mark test and
// example code.
var outsideWords = map[string]bool{"test": true, "tests": true, "testing": true, "e2e": true, "integration": true, "example": true, "examples": true, "mock": true, "mocks": true, "smoke": true}
