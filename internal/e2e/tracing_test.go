package e2e

import (
	"net"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"
)

// blackHole listens on loopback, accepts every connection and never
// answers: a collector that hangs.
func blackHole(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// TestSIGTERMWithHungCollector: with a collector that accepts and never
// answers, a SIGTERM still ends the process within its stop budget,
// DRAIN_DELAY plus SHUTDOWN_TIMEOUT: the spans still held are given up
// on when the budget ends. The bound allows a generous margin for a
// loaded machine; an exporter that waits on its own timeout (10 s by
// default) would overrun it.
func TestSIGTERMWithHungCollector(t *testing.T) {
	for _, protocol := range []string{"http/protobuf", "grpc"} {
		t.Run(protocol, func(t *testing.T) {
			env := Backing(t)
			env["DRAIN_DELAY"] = "1s"
			env["SHUTDOWN_TIMEOUT"] = "2s"
			env["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://" + blackHole(t)
			env["OTEL_EXPORTER_OTLP_PROTOCOL"] = protocol
			env["OTEL_BSP_SCHEDULE_DELAY"] = "50" // an export is under way, hung, when the signal comes
			const budget = 3 * time.Second
			const margin = 2 * time.Second

			p := Start(t, "server", env)
			c := &http.Client{Timeout: 5 * time.Second}
			for range 20 {
				if code, err := Get(c, "http://"+p.Addr+"/version"); err != nil || code != 200 {
					t.Fatalf("GET /version = %d, %v", code, err)
				}
			}
			time.Sleep(200 * time.Millisecond) // past the schedule delay
			sent := time.Now()
			p.Signal(t, syscall.SIGTERM)
			code := p.Wait(t, budget+margin)
			took := time.Since(sent)
			t.Logf("exit %d after %v (budget %v)", code, took.Round(time.Millisecond), budget)
			if code != 0 {
				t.Errorf("exit code %d, want 0", code)
			}
			if !p.Logs.Has("tracing: spans left unexported at exit") {
				t.Error("no line says spans were left unexported: the collector did not hang as the test means")
			}
		})
	}
}
