// Package proctest helps the tools' tests that run the template's binaries
// as processes on loopback: it finds them free ports and waits until they
// answer.
package proctest

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
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
