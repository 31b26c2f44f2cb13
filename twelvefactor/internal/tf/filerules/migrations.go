package filerules

import (
	"cmp"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	tf "github.com/dozen-go/dozen/twelvefactor/internal/tf"
)

// migrationName is golang-migrate's file name, VERSION_TITLE.up.sql, as
// its parser reads it: the title may hold dots, and any extension
// follows up or down.
var migrationName = regexp.MustCompile(`^([0-9]+)_(.*)\.(down|up)\.(.*)$`)

// sampleDirs are directory names that mark migrations as test or sample
// data (a stub database's schema, an example program's), not the
// service's.
var sampleDirs = map[string]bool{
	"stub": true, "stubs": true, "testdata": true, "fixtures": true, "test": true, "tests": true,
	"mocks": true, "examples": true,
}

// migrationDirs returns the directories that hold .sql files in or under a
// directory named migrations (migrations/, or one directory per dialect
// such as migrations/postgres/), leaving out those under a directory of
// test stubs, fixtures or examples.
func migrationDirs(repo *tf.Repo) []string {
	var dirs []string
	for _, f := range repo.Files {
		d := path.Dir(f)
		elems := strings.Split(d, "/")
		inMigrations := slices.Contains(elems, "migrations") || slices.Contains(elems, "migration")
		sample := slices.ContainsFunc(elems, func(e string) bool { return sampleDirs[e] })
		if inMigrations && !sample && strings.HasSuffix(f, ".sql") && !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// checkMigrations runs XII2, XII1 and V4.
func checkMigrations(repo *tf.Repo, c *tf.Collector, src *goSource, docker []*dockerfile, k *kube, pf *procfile) {
	dirs := migrationDirs(repo)
	if len(dirs) == 0 {
		c.NotApplicable("no migrations directory", "XII1", "XII2", "V4")
		return
	}
	tool := migrationTool(repo, dirs)
	switch tool {
	case "pop", "atlas":
		c.NotApplicable("the migrations are "+tool+"'s, whose names it checks itself", "XII2")
	}
	for _, dir := range dirs {
		switch tool {
		case "golang-migrate":
			checkMigrationNames(repo, c, dir)
		case "goose", "dbmate", "sql-migrate", "":
			checkVersionedNames(repo, c, dir, tool)
		}
		if !embeds(src, dir) && !dockerCopies(docker, dir) {
			c.Addf("XII1", dir, 0, "%s is neither embedded (//go:embed) nor copied into the final image", dir)
		}
	}
	_, release := pf.get("release")
	switch {
	case release || k.HasJob:
	case pf == nil && len(k.Objects) == 0:
		c.NotApplicable("no Procfile or Kubernetes manifests", "V4")
	default:
		c.Addf("V4", dirs[0], 0, "migrations exist but no Procfile release: process or Kubernetes Job runs them")
	}
}

// usesGolangMigrate reports whether the repository runs its migrations
// with golang-migrate, whose naming rules XII2 checks: a go.mod (the root
// one or a nested module's) requires it, or a Dockerfile, compose file or
// Makefile uses its image or CLI. Other tools (goose, pop, atlas) name
// their files differently.
func usesGolangMigrate(repo *tf.Repo) bool {
	for _, f := range repo.Files {
		b := tf.Base(f)
		if b != "go.mod" && !isDockerfile(f) && !isCompose(f) && b != "makefile" {
			continue
		}
		data := string(repo.Read(f))
		if strings.Contains(data, "golang-migrate/migrate") || strings.Contains(data, "migrate/migrate") {
			return true
		}
	}
	return false
}

// migrationTool names the tool that runs the migrations, "" when unknown:
// golang-migrate, goose, dbmate, sql-migrate, pop or atlas.
func migrationTool(repo *tf.Repo, dirs []string) string {
	if usesGolangMigrate(repo) {
		return "golang-migrate"
	}
	var gomod string
	for _, f := range repo.Match(func(rel string) bool { return path.Base(rel) == "go.mod" }) {
		gomod += string(repo.Read(f))
	}
	for _, t := range []struct{ tool, module string }{
		{"goose", "pressly/goose"}, {"dbmate", "amacneil/dbmate"}, {"sql-migrate", "rubenv/sql-migrate"},
		{"pop", "gobuffalo/pop"}, {"atlas", "ariga.io/atlas"},
	} {
		if strings.Contains(gomod, t.module) {
			return t.tool
		}
	}
	for _, f := range repo.Files {
		if !slices.Contains(dirs, path.Dir(f)) {
			continue
		}
		switch data := string(repo.Read(f)); {
		case path.Base(f) == "atlas.sum":
			return "atlas"
		case strings.HasSuffix(f, ".fizz"):
			return "pop"
		case strings.Contains(data, "+goose Up"):
			return "goose"
		case strings.Contains(data, "-- migrate:up"):
			return "dbmate"
		case strings.Contains(data, "+migrate Up"):
			return "sql-migrate"
		}
	}
	return ""
}

// versionedName is a migration named VERSION_title.sql, as goose, dbmate
// and most tools want.
var versionedName = regexp.MustCompile(`^([0-9]+)_[A-Za-z0-9_.-]+\.(sql|go)$`)

// toolMarker is the annotation each tool needs in a migration file.
var toolMarker = map[string]string{"goose": "+goose Up", "dbmate": "-- migrate:up", "sql-migrate": "+migrate Up"}

// checkVersionedNames runs XII2 for tools other than golang-migrate:
// files named VERSION_title.sql with unique versions, holding the tool's
// up marker. For an unknown tool only the names and versions are checked,
// and only when most files carry a version.
func checkVersionedNames(repo *tf.Repo, c *tf.Collector, dir, tool string) {
	files := repo.Match(func(rel string) bool {
		// goose also runs Go migrations, named like the SQL ones.
		goMigration := tool == "goose" && strings.HasSuffix(rel, ".go") && versionedName.MatchString(path.Base(rel))
		return path.Dir(rel) == dir && (strings.HasSuffix(rel, ".sql") || goMigration)
	})
	named := 0
	for _, f := range files {
		if versionedName.MatchString(path.Base(f)) {
			named++
		}
	}
	if tool == "" && named*2 <= len(files) {
		return // no versioned naming to hold the files to
	}
	versions := make(map[string]string)
	for _, f := range files {
		base := path.Base(f)
		m := versionedName.FindStringSubmatch(base)
		if m == nil {
			c.Addf("XII2", f, 0, "%s is not named VERSION_title.sql like the other migrations; %s skips or misorders it", base, cmp.Or(tool, "the migration tool"))
			continue
		}
		if strings.Contains(base, ".up.") || strings.Contains(base, ".down.") {
			continue // up and down files share a version by design
		}
		if v, err := strconv.ParseUint(m[1], 10, 64); err == nil {
			key := strconv.FormatUint(v, 10)
			if other, dup := versions[key]; dup {
				c.Addf("XII2", f, 0, "version %s is used twice: %s and %s", key, path.Base(other), base)
				continue
			}
			versions[key] = f
		}
		if marker := toolMarker[tool]; marker != "" && strings.HasSuffix(f, ".sql") && !strings.Contains(string(repo.Read(f)), marker) {
			c.Addf("XII2", f, 0, "%s has no %q section, so %s runs nothing from it", base, marker, tool)
		}
	}
}

// embeds reports whether a //go:embed pattern takes in the directory.
func embeds(src *goSource, dir string) bool {
	for from, pats := range src.Embeds {
		for _, p := range pats {
			p = strings.Trim(p, "\"`")
			p = strings.TrimPrefix(p, "all:")
			full := path.Join(from, p)
			// migrations/* takes in migrations/postgres: compare the
			// part before the first wildcard.
			if i := strings.IndexAny(full, "*?["); i >= 0 {
				full = path.Dir(full[:i+1])
			}
			if full == dir || strings.HasPrefix(full, dir+"/") || strings.HasPrefix(dir, full+"/") {
				return true
			}
		}
	}
	return false
}

// checkMigrationNames runs XII2 on one directory.
func checkMigrationNames(repo *tf.Repo, c *tf.Collector, dir string) {
	type pair struct {
		up, down string
	}
	versions := make(map[uint64]*pair)
	widths := make(map[int]string)
	for _, f := range repo.Match(func(rel string) bool { return path.Dir(rel) == dir }) {
		base := path.Base(f)
		m := migrationName.FindStringSubmatch(base)
		if m == nil {
			if strings.HasSuffix(base, ".sql") {
				c.Addf("XII2", f, 0, "%s is not named VERSION_title.up.sql or .down.sql; golang-migrate ignores it", base)
			}
			continue
		}
		v, err := strconv.ParseUint(m[1], 10, 64)
		if err != nil {
			c.Addf("XII2", f, 0, "version %s is too large", m[1])
			continue
		}
		widths[len(m[1])] = f
		p := versions[v]
		if p == nil {
			p = &pair{}
			versions[v] = p
		}
		slot := &p.up
		if m[3] == "down" {
			slot = &p.down
		}
		if *slot != "" {
			c.Addf("XII2", f, 0, "version %d has two %s migrations: %s and %s", v, m[3], path.Base(*slot), base)
			continue
		}
		*slot = f
	}
	if len(widths) > 1 {
		var ex []string
		for _, f := range widths {
			ex = append(ex, path.Base(f))
		}
		slices.Sort(ex)
		c.Addf("XII2", dir, 0, "versions have different widths (%s), so the files do not sort in the order they run", strings.Join(ex, ", "))
	}
	for v, p := range versions {
		switch {
		case p.up == "":
			c.Addf("XII2", p.down, 0, "version %d has a down migration but no up", v)
		case p.down == "":
			// golang-migrate runs up without a down file; an initial
			// migration without one is a common, deliberate choice.
			c.Add(tf.Finding{Rule: "XII2", File: p.up, Hardening: true,
				Message: fmt.Sprintf("version %d has an up migration but no down", v)})
		}
	}
}
