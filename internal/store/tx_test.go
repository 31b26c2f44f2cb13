package store

import (
	"database/sql"
	"errors"
	"strings"
	"testing"

	"github.com/dozen-go/dozen/internal/sqlite"
)

// TestInTx checks the transaction helper every write of the store goes
// through: fn's work is committed when it returns nil and rolled back when
// it fails, and the error names the operation and keeps its kind; and that
// a read on DB, through Classify, gets the same kinds.
func TestInTx(t *testing.T) {
	ctx := t.Context()
	db, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE TABLE t (n INTEGER UNIQUE)"); err != nil {
		t.Fatal(err)
	}
	s := New(db)
	insert := func(n int) func(*sql.Tx) error {
		return func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, "INSERT INTO t (n) VALUES (?)", n)
			return err
		}
	}

	if err := s.InTx(ctx, "insert 1", insert(1)); err != nil {
		t.Fatalf("InTx(insert 1) = %v, want nil", err)
	}
	boom := errors.New("boom")
	err = s.InTx(ctx, "insert 2 then fail", func(tx *sql.Tx) error {
		if err := insert(2)(tx); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "insert 2 then fail") {
		t.Errorf("InTx(failing fn) = %v, want boom wrapped with the operation", err)
	}
	if err := s.InTx(ctx, "insert 1 again", insert(1)); !errors.Is(err, ErrConflict) {
		t.Errorf("InTx(duplicate) = %v, want ErrConflict", err)
	}

	var n int
	err = Classify("read 2", s.DB().QueryRowContext(ctx, "SELECT n FROM t WHERE n = 2").Scan(&n))
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "read 2") {
		t.Errorf("Classify(read of a missing row) = %v, want ErrNotFound wrapped with the operation", err)
	}

	var got []int
	rows, err := s.DB().QueryContext(ctx, "SELECT n FROM t ORDER BY n")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var n int
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		got = append(got, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != 1 {
		t.Errorf("rows after commit, rollback and conflict = %v, want [1]", got)
	}
}
