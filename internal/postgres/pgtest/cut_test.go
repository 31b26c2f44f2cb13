package pgtest_test

import (
	"database/sql"
	"sync/atomic"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/dozen-go/dozen/internal/config"
	"github.com/dozen-go/dozen/internal/postgres/pgtest"
)

func open(t *testing.T, u config.URL) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", u.Value())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// An armed CommitCutter lets the commit apply and loses its reply: the
// client's Commit fails, the OnCut function has run, the row is there.
func TestCommitCutterLosesTheReply(t *testing.T) {
	u := pgtest.NewDatabase(t)
	proxied, cut := pgtest.NewCommitCutter(t, u)
	direct, via := open(t, u), open(t, proxied)
	if _, err := direct.ExecContext(t.Context(), "CREATE TABLE cut (n int)"); err != nil {
		t.Fatal(err)
	}
	var onCut atomic.Bool
	cut.OnCut(func() { onCut.Store(true) })
	cut.Arm(1)
	tx, err := via.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(t.Context(), "INSERT INTO cut VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err == nil {
		t.Fatal("Commit through an armed cutter = nil, want the lost reply's error")
	}
	if got := cut.Cuts(); got != 1 {
		t.Errorf("Cuts() = %d, want 1", got)
	}
	if !onCut.Load() {
		t.Error("the OnCut function did not run at the cut")
	}
	var n int
	if err := direct.QueryRowContext(t.Context(), "SELECT count(*) FROM cut").Scan(&n); err != nil || n != 1 {
		t.Errorf("rows after the cut commit = %d, %v; want 1: the commit applied", n, err)
	}
}
