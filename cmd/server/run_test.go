package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// started is a run of the server in this process.
type started struct {
	addr, adminAddr string     // loopback addresses of the two listeners
	done            chan error // receives run's result
	lines           chan map[string]any
	startup         []string // messages logged before it listened
}

// start runs the server with env on ephemeral ports and waits until it
// listens. The log lines it writes arrive on s.lines.
func start(t *testing.T, env map[string]string) *started {
	t.Helper()
	base := map[string]string{"PORT": "0", "ADMIN_ADDR": "127.0.0.1:0", "LOG_FLUSH_INTERVAL": "0s",
		"DATA_DIR": t.TempDir()}
	for k, v := range env {
		base[k] = v
	}
	lookup := func(k string) (string, bool) { v, ok := base[k]; return v, ok }

	pr, pw := io.Pipe()
	s := &started{done: make(chan error, 1), lines: make(chan map[string]any, 1000)}
	go func() {
		err := run(context.Background(), nil, lookup, pw)
		pw.Close()
		s.done <- err
	}()
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Errorf("stdout line %q is not JSON: %v", sc.Text(), err)
				continue
			}
			s.lines <- m
		}
		close(s.lines)
	}()
	for line := range s.lines {
		s.startup = append(s.startup, fmt.Sprint(line["msg"]))
		if line["msg"] == "listening" {
			s.addr = loopback(t, line["addr"].(string))
			s.adminAddr = line["admin_addr"].(string)
			return s
		}
	}
	t.Fatalf("run ended before listening: %v", <-s.done)
	return nil
}

// loopback turns a listener address such as [::]:1234 into one to dial.
func loopback(t *testing.T, addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return net.JoinHostPort("127.0.0.1", port)
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitFor polls url until it answers want, or fails the test.
func waitFor(t *testing.T, url string, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, body := get(t, url)
		if code == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s = %d %s, want %d", url, code, body, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestGracefulShutdown runs the real server, starts a request that is still
// arriving when SIGTERM comes, and checks that readiness drops at once, the
// request completes, a second SIGTERM is ignored, and run returns nil.
func TestGracefulShutdown(t *testing.T) {
	s := start(t, map[string]string{"DRAIN_DELAY": "300ms", "SHUTDOWN_TIMEOUT": "5s"})
	waitFor(t, "http://"+s.addr+"/readyz", 200)
	if code, body := get(t, "http://"+s.adminAddr+"/metrics"); code != 200 || !strings.Contains(body, "http_requests_total") {
		t.Errorf("GET admin /metrics = %d, want 200 with http_requests_total", code)
	}
	if code, _ := get(t, "http://"+s.addr+"/metrics"); code != 404 {
		t.Errorf("GET public /metrics = %d, want 404: metrics belong on the admin listener", code)
	}

	// A slow request, in flight when SIGTERM comes: a client uploading its
	// body slowly. net/http reads the body the handler left unread before
	// it answers, so the request stays active until the body is complete.
	conn, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /version HTTP/1.1\r\nHost: test\r\nContent-Length: 10\r\n\r\n01234"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // let the server take it

	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "http://"+s.addr+"/readyz", 503)
	if code, _ := get(t, "http://"+s.addr+"/livez"); code != 200 {
		t.Errorf("GET /livez during drain = %d, want 200", code)
	}
	// Heroku sends SIGTERM more than once; a repeat must not kill us.
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Wait until the listener closes: Shutdown has begun.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		c, err := net.Dial("tcp", s.addr)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("listener still open 5s after SIGTERM")
		}
	}

	// Finish the slow request: it must still be served in full.
	if _, err := io.WriteString(conn, "56789"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("slow request across shutdown: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "go_version") {
		t.Errorf("slow request across shutdown = %d %s, want 200 with the version", resp.StatusCode, body)
	}

	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("run() = %v, want nil after a clean drain", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after the drain")
	}
	var msgs []string
	for l := range s.lines {
		msgs = append(msgs, fmt.Sprint(l["msg"]))
	}
	want := "already stopping; signal ignored"
	if !strings.Contains(strings.Join(msgs, "|"), want) || msgs[len(msgs)-1] != "stopped" {
		t.Errorf("log after SIGTERM = %q, want %q and a final stopped", msgs, want)
	}
}

// TestShutdownTimeout checks that a request outliving SHUTDOWN_TIMEOUT is
// cut off and that run reports the unclean drain.
func TestShutdownTimeout(t *testing.T) {
	s := start(t, map[string]string{"DRAIN_DELAY": "0s", "SHUTDOWN_TIMEOUT": "200ms", "HTTP_READ_HEADER_TIMEOUT": "30s"})
	conn, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET /version HTTP/1.1\r\nHost: test\r\n") // never finished
	time.Sleep(50 * time.Millisecond)

	start := time.Now()
	syscall.Kill(syscall.Getpid(), syscall.SIGTERM)
	select {
	case err := <-s.done:
		if err == nil || !strings.Contains(err.Error(), "SHUTDOWN_TIMEOUT") {
			t.Errorf("run() = %v, want an error naming SHUTDOWN_TIMEOUT", err)
		}
		if elapsed := time.Since(start); elapsed > 3*time.Second {
			t.Errorf("run returned %v after SIGTERM, want about SHUTDOWN_TIMEOUT", elapsed)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after SHUTDOWN_TIMEOUT")
	}
	for range s.lines {
	}
}

func TestBadConfigFailsBeforeListening(t *testing.T) {
	env := map[string]string{"PORT": "eighty", "SHUTDOWN_TIMEOUT": "soon", "ADMIN_ADDR": "127.0.0.1:0"}
	var out strings.Builder
	err := run(context.Background(), nil, func(k string) (string, bool) { v, ok := env[k]; return v, ok }, &out)
	if err == nil {
		t.Fatal("run() = nil, want a config error")
	}
	for _, want := range []string{"PORT", "SHUTDOWN_TIMEOUT"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("run() error = %q, want it to name %s", err, want)
		}
	}
	for _, leak := range []string{"eighty", "soon"} {
		if strings.Contains(err.Error(), leak) {
			t.Errorf("run() error = %q, prints the value %q", err, leak)
		}
	}
	if out.Len() != 0 {
		t.Errorf("run() logged %q before failing on config, want nothing", out.String())
	}
}

// TestInterruptSkipsDrainDelay: Ctrl-C at a terminal (SIGINT) stops at
// once, without the DRAIN_DELAY meant for load balancers.
func TestInterruptSkipsDrainDelay(t *testing.T) {
	s := start(t, map[string]string{"DRAIN_DELAY": "30s"})
	waitFor(t, "http://"+s.addr+"/readyz", 200)
	http.DefaultClient.CloseIdleConnections()
	sent := time.Now()
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("run() = %v, want nil", err)
		}
		if took := time.Since(sent); took > 5*time.Second {
			t.Errorf("run returned %v after SIGINT, want at once: DRAIN_DELAY is for SIGTERM", took)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return within 10s of SIGINT, with a 30s DRAIN_DELAY")
	}
	for range s.lines {
	}
}
