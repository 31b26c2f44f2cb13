package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
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

// TestStopDuringStartup stops the worker while it waits for a database
// that does not answer (a closed port, and attempts enough for minutes):
// a stop signal or the end of its context ends the wait at once.
func TestStopDuringStartup(t *testing.T) {
	t.Parallel() // it waits on timeouts: let the package's other tests run meanwhile
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	env := map[string]string{
		"ADMIN_ADDR":                "127.0.0.1:0",
		"LOG_FLUSH_INTERVAL":        "0s",
		"DATABASE_URL":              "postgres://app@" + addr + "/app?sslmode=disable",
		"DATABASE_CONNECT_ATTEMPTS": "100",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	tests := []struct {
		name string
		stop func(cancel context.CancelFunc)
		want string
	}{
		{"SIGTERM", func(context.CancelFunc) { syscall.Kill(syscall.Getpid(), syscall.SIGTERM) }, "stopped by terminated during start-up"},
		{"context cancelled", func(cancel context.CancelFunc) { cancel() }, "context canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- run(ctx, nil, lookup, io.Discard) }()
			time.Sleep(500 * time.Millisecond) // waiting for the database by now
			sent := time.Now()
			tt.stop(cancel)
			select {
			case err := <-done:
				if took := time.Since(sent); took > time.Second {
					t.Errorf("run returned %v after the stop, want within a second", took)
				}
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("run() = %v, want an error containing %q", err, tt.want)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("run still waiting for the database 10s after the stop")
			}
		})
	}
}
