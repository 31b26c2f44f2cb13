package filerules

import (
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	tf "github.com/dozen-go/dozen/twelvefactor/internal/tf"
)

// migrationName is golang-migrate's file name: VERSION_TITLE.up.sql.
var migrationName = regexp.MustCompile(`^([0-9]+)_([A-Za-z0-9_-]+)\.(up|down)\.sql$`)

// migrationDirs returns the directories that hold .sql files in or under a
// directory named migrations (migrations/, or one directory per dialect
// such as migrations/postgres/).
func migrationDirs(repo *tf.Repo) []string {
	var dirs []string
	for _, f := range repo.Files {
		d := path.Dir(f)
		inMigrations := slices.Contains(strings.Split(d, "/"), "migrations")
		if inMigrations && strings.HasSuffix(f, ".sql") && !slices.Contains(dirs, d) {
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
	if !usesGolangMigrate(repo) {
		c.NotApplicable("the migrations are not golang-migrate's", "XII2")
	}
	for _, dir := range dirs {
		if usesGolangMigrate(repo) {
			checkMigrationNames(repo, c, dir)
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
// with golang-migrate, whose naming rules XII2 checks: go.mod requires it,
// or a Dockerfile, compose file or Makefile uses its image or CLI. Other
// tools (goose, pop, atlas) name their files differently.
func usesGolangMigrate(repo *tf.Repo) bool {
	for _, f := range repo.Files {
		b := tf.Base(f)
		if f != "go.mod" && !isDockerfile(f) && !isCompose(f) && b != "makefile" {
			continue
		}
		data := string(repo.Read(f))
		if strings.Contains(data, "golang-migrate/migrate") || strings.Contains(data, "migrate/migrate") {
			return true
		}
	}
	return false
}

// embeds reports whether a //go:embed pattern takes in the directory.
func embeds(src *goSource, dir string) bool {
	for from, pats := range src.Embeds {
		for _, p := range pats {
			p = strings.Trim(p, "\"`")
			p = strings.TrimPrefix(p, "all:")
			full := path.Join(from, p)
			if full == dir || strings.HasPrefix(full, dir+"/") {
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
			c.Addf("XII2", p.up, 0, "version %d has an up migration but no down", v)
		}
	}
}
