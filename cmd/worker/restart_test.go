package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dozen-go/dozen/internal/config"
	"github.com/dozen-go/dozen/internal/database"
	"github.com/dozen-go/dozen/internal/postgres/pgtest"
)

// TestStartOutlastsDatabaseRestart: Postgres goes away between the
// worker's connect and the start of its jobs client (its sessions are
// terminated with 57P01, new ones refused for 2s, as in a restart). The
// worker waits for it, then starts and is ready, instead of exiting.
func TestStartOutlastsDatabaseRestart(t *testing.T) {
	u := pgtest.NewDatabase(t)
	name := pgtest.Name(u)
	m, err := database.OpenMigrator(t.Context(), config.Database{URL: u, MigrationLockTimeout: 5 * time.Second, ConnectTimeout: 5 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Up(t.Context()); err != nil {
		t.Fatal(err)
	}
	m.Close()

	env := map[string]string{
		"DATABASE_URL": u.Value(), "DATABASE_CONNECT_ATTEMPTS": "10", "DATABASE_CONNECT_TIMEOUT": "2s",
		"ADMIN_ADDR": "127.0.0.1:0", "LOG_FLUSH_INTERVAL": "0s", "SHUTDOWN_TIMEOUT": "5s",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	out := &restartOnReady{t: t, name: name, admin: make(chan string, 1)}
	defer out.wait()
	done := make(chan error, 1)
	go func() { done <- run(context.Background(), nil, lookup, out) }()

	var admin string
	select {
	case admin = <-out.admin:
	case err := <-done:
		t.Fatalf("run() = %v before working, want it to wait for the database", err)
	case <-time.After(60 * time.Second):
		t.Fatal("worker not working 60s after start")
	}
	if !out.restarted() {
		t.Fatal("the database was not taken down during start-up")
	}
	resp, err := http.Get("http://" + admin + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /readyz = %d, want 200 once working", resp.StatusCode)
	}
	http.DefaultClient.CloseIdleConnections()
	syscall.Kill(syscall.Getpid(), syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run() = %v, want nil", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("worker did not stop within 15s of SIGTERM")
	}
}

// restartOnReady is the worker's log output. When the database is
// checked ("database ready"), it takes the database down for 2s; when the
// worker is "working", it sends the admin address.
type restartOnReady struct {
	t     *testing.T
	name  string
	admin chan string
	wg    sync.WaitGroup
	mu    sync.Mutex
	down  bool
}

func (w *restartOnReady) Write(p []byte) (int, error) {
	for line := range bytes.Lines(p) {
		var m struct {
			Msg       string `json:"msg"`
			AdminAddr string `json:"admin_addr"`
		}
		if json.Unmarshal(line, &m) != nil {
			continue
		}
		switch m.Msg {
		case "database ready":
			w.mu.Lock()
			w.down = true
			w.mu.Unlock()
			pgtest.SetDown(w.t, w.name, true)
			w.wg.Add(1)
			time.AfterFunc(2*time.Second, func() { defer w.wg.Done(); pgtest.SetDown(w.t, w.name, false) })
		case "working":
			w.admin <- m.AdminAddr
		}
	}
	return len(p), nil
}

func (w *restartOnReady) restarted() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.down
}

// wait waits for the database to be up again.
func (w *restartOnReady) wait() { w.wg.Wait() }
