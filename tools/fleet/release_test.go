package fleet

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The release between the two generations: an expand migration, a
// nullable column that generation 2 writes on every create and
// generation 1 neither reads nor writes, so both serve on the new
// schema while the rollout runs.
const (
	releaseColumn = "created_by_release"
	releaseUp     = "-- Expand: a nullable column the new code writes and the old code ignores.\nALTER TABLE links ADD COLUMN " + releaseColumn + " text;\n"
	releaseDown   = "ALTER TABLE links DROP COLUMN " + releaseColumn + ";\n"
	// The create statement of internal/links/store.go, and what
	// generation 2 runs instead.
	createOld = `INSERT INTO links (code, url, created_at, expires_at) VALUES ($1, $2, $3, $4)`
	createNew = `INSERT INTO links (code, url, created_at, expires_at, ` + releaseColumn + `) VALUES ($1, $2, $3, $4, 'gen2')`
)

// patchRelease turns the template tree at dir into generation 2: the
// migration after the newest one, in migrations/shared, and the create
// statement writing the new column.
func patchRelease(dir string) error {
	next := 0
	for _, d := range []string{"postgres", "sqlite", "shared"} {
		entries, err := os.ReadDir(filepath.Join(dir, "migrations", d))
		if err != nil {
			return fmt.Errorf("release patch: %w", err)
		}
		for _, e := range entries {
			v, _, _ := strings.Cut(e.Name(), "_")
			if n, err := strconv.Atoi(v); err == nil && n >= next {
				next = n + 1
			}
		}
	}
	base := filepath.Join(dir, "migrations", "shared", fmt.Sprintf("%06d_links_%s", next, releaseColumn))
	if err := os.WriteFile(base+".up.sql", []byte(releaseUp), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(base+".down.sql", []byte(releaseDown), 0o644); err != nil {
		return err
	}
	path := filepath.Join(dir, "internal", "links", "store.go")
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("release patch: %w", err)
	}
	if n := strings.Count(string(b), createOld); n != 1 {
		return fmt.Errorf("release patch: internal/links/store.go has the create statement %d times, want once; update createOld in tools/fleet/release_test.go", n)
	}
	return os.WriteFile(path, []byte(strings.Replace(string(b), createOld, createNew, 1)), 0o644)
}
