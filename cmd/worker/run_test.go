package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"syscall"
	"testing"
	"time"
)

// runWorker starts run with env and returns its admin address, a channel
// of its log messages and one of its result.
func runWorker(t *testing.T, env map[string]string) (string, <-chan string, <-chan error) {
	t.Helper()
	env["ADMIN_ADDR"], env["LOG_FLUSH_INTERVAL"] = "127.0.0.1:0", "0s"
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(context.Background(), nil, lookup, pw)
		pw.Close()
		done <- err
	}()
	msgs := make(chan string, 1000)
	admin := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) != nil {
				continue
			}
			if m["msg"] == "working" {
				admin <- "http://" + m["admin_addr"].(string)
			}
			msgs <- m["msg"].(string)
		}
		close(msgs)
	}()
	select {
	case a := <-admin:
		return a, msgs, done
	case err := <-done:
		t.Fatalf("worker ended before working: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("worker not working after 30s")
	}
	return "", nil, nil
}

// TestStopsOnSIGTERM checks the worker's probes and a clean stop.
func TestStopsOnSIGTERM(t *testing.T) {
	admin, msgs, done := runWorker(t, map[string]string{"DATA_DIR": t.TempDir()})
	resp, err := http.Get(admin + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET /readyz = %d, want 200", resp.StatusCode)
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
	for range msgs {
	}
}
