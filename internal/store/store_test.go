package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/dozen-go/dozen/internal/database"
	"github.com/dozen-go/dozen/internal/database/dbtest"
	"github.com/dozen-go/dozen/internal/postgres/pgtest"
	"github.com/dozen-go/dozen/migrations"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestContract runs the same tests on every database the store supports.
func TestContract(t *testing.T) {
	for _, dialect := range migrations.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			contract(t, New(dbtest.Open(t, dialect).SQL), dialect)
		})
	}
}

func contract(t *testing.T, s *Store, dialect string) {
	idempotencyContract(t, s)
}

// TestUnavailableAndRecovery cuts the store's database off mid-traffic
// with pg_terminate_backend and checks that queries fail with
// ErrUnavailable, then work again without reopening anything.
func TestUnavailableAndRecovery(t *testing.T) {
	cfg := dbtest.Migrated(t, migrations.Postgres)
	db, err := database.Open(t.Context(), cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := New(db.SQL)
	if err := ping(t.Context(), s); err != nil {
		t.Fatal(err)
	}

	pgtest.SetDown(t, pgtest.Name(cfg.URL), true)
	t.Cleanup(func() { pgtest.SetDown(t, pgtest.Name(cfg.URL), false) })
	if err := ping(t.Context(), s); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Ping() while down = %v, want ErrUnavailable", err)
	}

	pgtest.SetDown(t, pgtest.Name(cfg.URL), false)
	start := time.Now()
	for {
		err := ping(t.Context(), s)
		if err == nil {
			break
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("Ping() 10s after recovery = %v, want the pool to reconnect", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("store answered %v after the database accepted connections again", time.Since(start))
}

// ping checks that the store's database answers, its error classified as
// the store's queries' errors are.
func ping(ctx context.Context, s *Store) error {
	if err := s.db.PingContext(ctx); err != nil {
		return Classify("ping", err)
	}
	return nil
}
