// Package proctest helps the tools' tests that run the template's binaries
// as processes on loopback: it finds them free ports and waits until they
// answer.
package proctest

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"testing"
	"time"
)

// FreePort returns a TCP port that was free on every interface a moment
// ago, below the kernel's ephemeral range where it can: a port the kernel
// hands out for port 0 may, by the time a process binds it, be the local
// port of one of the connections other tests open meanwhile.
func FreePort(t testing.TB) int {
	t.Helper()
	lo := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		_, _ = fmt.Sscan(string(b), &lo)
	}
	for range 200 {
		if lo <= 11000 {
			break
		}
		port := 10000 + rand.IntN(lo-10000)
		ln, err := net.Listen("tcp", fmt.Sprintf(":%d", port))
		if err != nil {
			continue
		}
		ln.Close()
		return port
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// WaitOK polls url until it answers 200. It fails the test, with the last
// answer, when exited is closed first (the process behind url ended) or
// 30 seconds pass.
func WaitOK(t testing.TB, url string, exited <-chan struct{}) {
	t.Helper()
	c := &http.Client{Timeout: time.Second}
	deadline := time.After(30 * time.Second)
	var last string
	for {
		resp, err := c.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, bytes.TrimSpace(body))
		} else {
			last = err.Error()
		}
		select {
		case <-exited:
			t.Fatalf("GET %s: the process exited (last answer: %s)", url, last)
		case <-deadline:
			t.Fatalf("GET %s = %s after 30s, want 200", url, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
