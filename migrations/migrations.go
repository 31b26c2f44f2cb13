// Package migrations holds the database schema as golang-migrate SQL files,
// embedded in every binary that imports it so a release needs nothing
// beside the binary (factors V and XII): one directory per SQL dialect,
// and shared/ for migrations whose SQL both dialects run as it is.
//
// Files are named NNNNNN_title.up.sql and NNNNNN_title.down.sql. Every
// version has both files, under the same title, either in shared/ or in
// every dialect directory. golang-migrate skips a file whose name does not
// match silently; List refuses it, and a test lists the embedded files.
//
// River's tables are not here: River's own migrator applies them (package
// schema). Versions 4 to 11 are reserved: earlier releases applied River's
// versions 1 to 8 as golang-migrate files under those numbers, and their
// databases still record them.
package migrations

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// files holds the dialect directories and shared/. Whole directories are
// embedded, not *.sql, so that a misnamed file is seen by List instead of
// left out.
//
//go:embed postgres sqlite shared
var files embed.FS

// Shared is the directory of migrations that every dialect runs.
const Shared = "shared"

// The SQL dialects, each with a directory of migrations.
const (
	Postgres = "postgres"
	SQLite   = "sqlite"
)

// Dialects lists the SQL dialects that have a directory of migrations.
func Dialects() []string { return []string{Postgres, SQLite} }

// FS returns the migrations for dialect ("postgres" or "sqlite"): its own
// directory and shared/, seen as one directory with the files at its root,
// as golang-migrate's iofs source expects.
func FS(dialect string) (fs.FS, error) {
	if !slices.Contains(Dialects(), dialect) {
		return nil, fmt.Errorf("no migrations for dialect %q", dialect)
	}
	return Overlay(files, dialect)
}

// Overlay returns the directory dir of root and root's shared/ as one
// directory. A file name in both is an error: a version is either shared
// or written per dialect.
func Overlay(root fs.FS, dir string) (fs.FS, error) {
	own, err := fs.Sub(root, dir)
	if err != nil {
		return nil, err
	}
	shared, err := fs.Sub(root, Shared)
	if err != nil {
		return nil, err
	}
	o := overlay{own, shared}
	entries, err := o.ReadDir(".")
	if err != nil {
		return nil, err
	}
	for i := 1; i < len(entries); i++ {
		if entries[i].Name() == entries[i-1].Name() {
			return nil, fmt.Errorf("%s: in both %s/ and %s/", entries[i].Name(), dir, Shared)
		}
	}
	return o, nil
}

// overlay is two directories seen as one.
type overlay [2]fs.FS

func (o overlay) Open(name string) (fs.File, error) {
	f, err := o[0].Open(name)
	if errors.Is(err, fs.ErrNotExist) && name != "." {
		return o[1].Open(name)
	}
	return f, err
}

// ReadDir lists both directories' entries, sorted by name; a directory
// missing from one of them counts as empty.
func (o overlay) ReadDir(name string) ([]fs.DirEntry, error) {
	var all []fs.DirEntry
	for _, d := range o {
		entries, err := fs.ReadDir(d, name)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		all = append(all, entries...)
	}
	slices.SortStableFunc(all, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return all, nil
}

// The reserved versions, which earlier releases used for River's tables
// (see the package documentation). No file may have one.
const (
	RetiredFirst = 4
	RetiredLast  = 11
)

// namePattern is the file name golang-migrate understands, narrowed to
// six-digit versions and lowercase snake_case titles.
var namePattern = regexp.MustCompile(`^([0-9]{6})_([a-z0-9]+(?:_[a-z0-9]+)*)\.(up|down)\.sql$`)

// NamePattern describes a valid file name, for error messages.
const NamePattern = "NNNNNN_title.up.sql or NNNNNN_title.down.sql (six digits, lowercase snake_case title)"

// Migration is one version: its number and title.
type Migration struct {
	Version uint
	Title   string
}

// List checks the files of one dialect directory and returns its
// migrations in version order. It fails on a misnamed file, a version used
// by two titles, or an up without its down or the reverse.
func List(dir fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(dir, ".")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	type halves struct {
		title    string
		up, down bool
	}
	seen := map[uint]*halves{}
	var errs []error
	for _, e := range entries {
		m := namePattern.FindStringSubmatch(e.Name())
		if e.IsDir() || m == nil {
			errs = append(errs, fmt.Errorf("%s: not a migration file: want %s", e.Name(), NamePattern))
			continue
		}
		v, _ := strconv.ParseUint(m[1], 10, 32)
		if v == 0 {
			errs = append(errs, fmt.Errorf("%s: version 0 is reserved for an empty database", e.Name()))
			continue
		}
		if v >= RetiredFirst && v <= RetiredLast {
			errs = append(errs, fmt.Errorf("%s: versions %d to %d are reserved: earlier releases recorded River's tables under them", e.Name(), RetiredFirst, RetiredLast))
			continue
		}
		h := seen[uint(v)]
		switch {
		case h == nil:
			h = &halves{title: m[2]}
			seen[uint(v)] = h
		case h.title != m[2]:
			errs = append(errs, fmt.Errorf("%s: version %s is also used by %q", e.Name(), m[1], h.title))
			continue
		}
		if m[3] == "up" {
			h.up = true
		} else {
			h.down = true
		}
	}
	var list []Migration
	for v, h := range seen {
		switch {
		case !h.up:
			errs = append(errs, fmt.Errorf("%06d_%s: down without up", v, h.title))
		case !h.down:
			errs = append(errs, fmt.Errorf("%06d_%s: up without down", v, h.title))
		}
		list = append(list, Migration{Version: v, Title: h.title})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	slices.SortFunc(list, func(a, b Migration) int { return int(a.Version) - int(b.Version) })
	return list, nil
}

// Latest returns the highest version in dir, or 0 when it has none.
func Latest(dir fs.FS) (uint, error) {
	list, err := List(dir)
	if err != nil {
		return 0, err
	}
	if len(list) == 0 {
		return 0, nil
	}
	return list[len(list)-1].Version, nil
}
