package store

import (
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/dozen-go/dozen/internal/links"
	"github.com/dozen-go/dozen/internal/postgres"
	"github.com/dozen-go/dozen/internal/postgres/pgtest"
	"github.com/dozen-go/dozen/internal/schema"
	"github.com/dozen-go/dozen/internal/sqlite"
	"github.com/dozen-go/dozen/migrations"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// migrate applies the real migrations to db through a second handle.
func migrate(t *testing.T, mdb *sql.DB, dialect string) {
	t.Helper()
	src, err := migrations.FS(dialect)
	if err != nil {
		t.Fatal(err)
	}
	m, err := schema.New(mdb, dialect, src, 5*time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.Up(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// TestContract runs the same tests on every database the store supports.
func TestContract(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		mdb, err := sqlite.Open(t.Context(), dir)
		if err != nil {
			t.Fatal(err)
		}
		migrate(t, mdb, migrations.SQLite)
		db, err := sqlite.Open(t.Context(), dir)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		contract(t, New(db, nil))
	})
	t.Run("postgres", func(t *testing.T) {
		u := pgtest.NewDatabase(t)
		mdb, err := postgres.OpenMigrationDB(u, 5*time.Second, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		migrate(t, mdb, migrations.Postgres)
		db, err := postgres.Open(t.Context(), u, postgres.Options{Attempts: 1, ConnectTimeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		contract(t, New(db.SQL, nil))
	})
}

func contract(t *testing.T, s *Store) {
	ctx := t.Context()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping() = %v", err)
	}
	created := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	expires := created.Add(24 * time.Hour)
	tests := []struct {
		name    string
		in      links.Link
		wantErr error
	}{
		{"without expiry", links.Link{Code: "abc", URL: "https://example.com/a", CreatedAt: created}, nil},
		{"with expiry", links.Link{Code: "xyz", URL: "https://example.com/x", CreatedAt: created, ExpiresAt: &expires}, nil},
		{"code taken", links.Link{Code: "abc", URL: "https://example.com/other", CreatedAt: created}, links.ErrCodeTaken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.CreateLink(ctx, tt.in, nil)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("CreateLink(%q) error = %v, want %v", tt.in.Code, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got.ID == 0 {
				t.Errorf("CreateLink(%q).ID = 0, want an ID", tt.in.Code)
			}
			read, err := s.Link(ctx, tt.in.Code)
			if err != nil {
				t.Fatalf("Link(%q) = %v", tt.in.Code, err)
			}
			if diff := cmp.Diff(got, read); diff != "" {
				t.Errorf("Link(%q) differs from what CreateLink returned (-created +read):\n%s", tt.in.Code, diff)
			}
		})
	}
	if _, err := s.Link(ctx, "missing"); !errors.Is(err, links.ErrNotFound) {
		t.Errorf("Link(missing) error = %v, want links.ErrNotFound", err)
	}
	linkContract(t, s)
}

// TestUnavailableAndRecovery cuts the store's database off mid-traffic
// with pg_terminate_backend and checks that queries fail with
// ErrUnavailable, then work again without reopening anything.
func TestUnavailableAndRecovery(t *testing.T) {
	u := pgtest.NewDatabase(t)
	mdb, err := postgres.OpenMigrationDB(u, 5*time.Second, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	migrate(t, mdb, migrations.Postgres)
	db, err := postgres.Open(t.Context(), u, postgres.Options{Attempts: 1, ConnectTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := New(db.SQL, nil)
	if _, err := s.CreateLink(t.Context(), links.Link{Code: "up", URL: "https://example.com"}, nil); err != nil {
		t.Fatal(err)
	}

	pgtest.SetDown(t, pgtest.Name(u), true)
	t.Cleanup(func() { pgtest.SetDown(t, pgtest.Name(u), false) })
	if _, err := s.Link(t.Context(), "up"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Link() while down = %v, want ErrUnavailable", err)
	}
	if err := s.Ping(t.Context()); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Ping() while down = %v, want ErrUnavailable", err)
	}

	pgtest.SetDown(t, pgtest.Name(u), false)
	start := time.Now()
	for {
		_, err := s.Link(t.Context(), "up")
		if err == nil {
			break
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("Link() 10s after recovery = %v, want the pool to reconnect", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("store answered %v after the database accepted connections again", time.Since(start))
}
