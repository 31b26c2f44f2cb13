package sqlite

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func TestOpenCreatesFileWithWAL(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "data")
	db, err := Open(t.Context(), dir)
	if err != nil {
		t.Fatalf("Open(%s) = %v", dir, err)
	}
	defer db.Close()
	if _, err := os.Stat(filepath.Join(dir, FileName)); err != nil {
		t.Errorf("database file: %v", err)
	}
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	if _, err := db.Exec("CREATE TABLE t (k TEXT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO t VALUES ($1)", "a"); err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec("INSERT INTO t VALUES ($1)", "a")
	if !IsUniqueViolation(err) || IsUnavailable(err) {
		t.Errorf("duplicate insert: IsUniqueViolation(%v) = %v, IsUnavailable = %v; want true, false", err, IsUniqueViolation(err), IsUnavailable(err))
	}
}

// TestOpenOddDirectoryName: a directory whose name has a character that
// URIs give a meaning to holds the database, whole.
func TestOpenOddDirectoryName(t *testing.T) {
	for _, name := range []string{"a#1", "b?x=1", "c%20d"} {
		dir := filepath.Join(t.TempDir(), name)
		db, err := Open(t.Context(), dir)
		if err != nil {
			t.Fatalf("Open(%s) = %v", dir, err)
		}
		db.Close()
		if _, err := os.Stat(filepath.Join(dir, FileName)); err != nil {
			t.Errorf("Open(%s): database file: %v", dir, err)
		}
	}
}

func TestOpenFailsOnUnusableDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if db, err := Open(t.Context(), file); err == nil {
		db.Close()
		t.Errorf("Open(a regular file as DATA_DIR) = nil error, want one")
	}
}

// TestLock: a second connection waits for the lock up to its wait and
// gives up with ErrLockWait; once the first lets go, it gets it.
func TestLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	unlock, err := Lock(t.Context(), path, time.Second)
	if err != nil {
		t.Fatalf("Lock() = %v", err)
	}
	if _, err := Lock(t.Context(), path, 100*time.Millisecond); !errors.Is(err, ErrLockWait) {
		t.Errorf("Lock() while held = %v, want ErrLockWait", err)
	}
	if err := unlock(); err != nil {
		t.Fatalf("unlock() = %v", err)
	}
	unlock, err = Lock(t.Context(), path, 100*time.Millisecond)
	if err != nil {
		t.Fatalf("Lock() once let go = %v", err)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
}

// lockHolderEnv, set, makes the test binary a process that takes the lock
// it names, says so on stdout, and holds it until killed.
const lockHolderEnv = "SQLITE_TEST_HOLD_LOCK"

func TestMain(m *testing.M) {
	if path := os.Getenv(lockHolderEnv); path != "" {
		if _, err := Lock(context.Background(), path, 5*time.Second); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		fmt.Println("locked")
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestLockAcrossProcesses: the lock holds against another process, and a
// process killed while holding it lets go of it.
func TestLockAcrossProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), lockHolderEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("the other process said %q, %v; want locked", line, err)
	}
	if _, err := Lock(t.Context(), path, 200*time.Millisecond); !errors.Is(err, ErrLockWait) {
		t.Errorf("Lock() while another process holds it = %v, want ErrLockWait", err)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	unlock, err := Lock(t.Context(), path, 5*time.Second)
	if err != nil {
		t.Fatalf("Lock() after the holder was killed = %v", err)
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
}
