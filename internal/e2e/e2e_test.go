package e2e

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dozen-go/dozen/internal/postgres/pgtest"
)

func TestMain(m *testing.M) {
	// Only the tests that run against Postgres (they skip without it) run
	// the worker and the admin binary: without Postgres, only the server
	// is built.
	commands := []string{"server"}
	if os.Getenv(pgtest.Variable) != "" {
		commands = append(commands, "worker", "admin")
	}
	Main(m, commands...)
}

// TestSIGTERMUnderLoad sends SIGTERM, twice, while keep-alive clients send
// a steady stream of requests and keep doing so for a moment after
// readiness drops, as a load balancer does: no request fails, and the
// process exits 0 well inside its budget.
func TestSIGTERMUnderLoad(t *testing.T) {
	env := Backing(t)
	env["DRAIN_DELAY"] = "1s"
	env["SHUTDOWN_TIMEOUT"] = "5s"
	p := Start(t, "server", env)
	base := "http://" + p.Addr

	const clients = 16
	lbLag := 300 * time.Millisecond // shorter than DRAIN_DELAY
	var ok, failed atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			defer c.CloseIdleConnections()
			for {
				select {
				case <-stop:
					return
				default:
				}
				code, err := Get(c, base+"/version")
				if err != nil || code != 200 {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprint(code, err))
					continue
				}
				ok.Add(1)
			}
		})
	}
	time.Sleep(time.Second)
	sent := time.Now()
	p.Signal(t, syscall.SIGTERM)

	// The load balancer notices readiness dropping, within its lag; the
	// clients go on sending meanwhile.
	c := &http.Client{Timeout: time.Second}
	dropped := false
	for deadline := time.Now().Add(lbLag); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if code, _ := Get(c, base+"/readyz"); code == 503 {
			dropped = true
		}
	}
	if !dropped {
		t.Errorf("GET /readyz never answered 503 in the %v after SIGTERM", lbLag)
	}
	p.Signal(t, syscall.SIGTERM) // Heroku repeats it
	close(stop)
	wg.Wait()

	code := p.Wait(t, 10*time.Second)
	t.Logf("%d requests served, %d failed; exit %d after %v", ok.Load(), failed.Load(), code, time.Since(sent).Round(time.Millisecond))
	if failed.Load() != 0 {
		t.Errorf("%d requests failed across SIGTERM (first: %v), want 0", failed.Load(), firstErr.Load())
	}
	if ok.Load() < clients {
		t.Errorf("only %d requests served", ok.Load())
	}
	if code != 0 {
		t.Errorf("exit code %d, want 0 after a clean drain", code)
	}
	if !p.Logs.Has("already stopping; signal ignored") {
		t.Error("the repeated SIGTERM was not seen and ignored")
	}
}

// TestSlowHeadersAreCut: a client dripping its headers is disconnected by
// HTTP_READ_HEADER_TIMEOUT.
func TestSlowHeadersAreCut(t *testing.T) {
	env := Backing(t)
	env["HTTP_READ_HEADER_TIMEOUT"] = "300ms"
	p := Start(t, "server", env)
	conn, err := net.Dial("tcp", p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	began := time.Now()
	io.WriteString(conn, "GET /version HTTP/1.1\r\nHost: e2e\r\nX-Slow: ")
	closed := false
	for i := 0; i < 40 && !closed; i++ {
		time.Sleep(50 * time.Millisecond)
		if _, err := io.WriteString(conn, "a"); err != nil {
			closed = true
		}
		conn.SetReadDeadline(time.Now().Add(time.Millisecond))
		if _, err := conn.Read(make([]byte, 512)); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			closed = true
		}
	}
	if !closed {
		t.Fatalf("slow client still connected after %v", time.Since(began))
	}
	if took := time.Since(began); took > 1500*time.Millisecond {
		t.Errorf("slow client cut after %v, want about the 300ms header timeout", took)
	}
}

// TestOversizedHeaders get 431.
func TestOversizedHeaders(t *testing.T) {
	env := Backing(t)
	env["HTTP_MAX_HEADER_BYTES"] = "2048"
	p := Start(t, "server", env)
	req, _ := http.NewRequest("GET", "http://"+p.Addr+"/version", nil)
	req.Header.Set("X-Big", strings.Repeat("a", 16<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("16 KiB header = %d, want 431", resp.StatusCode)
	}
}
