package process

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// start starts a process with env, logging to out, on top of an embedded
// database in a temporary directory and an ephemeral admin port.
func start(t *testing.T, env map[string]string, out io.Writer) *Process {
	t.Helper()
	all := map[string]string{"DATA_DIR": t.TempDir(), "ADMIN_ADDR": "127.0.0.1:0", "LOG_FLUSH_INTERVAL": "0s"}
	for k, v := range env {
		all[k] = v
	}
	p, err := Start(t.Context(), "test", nil, func(k string) (string, bool) { v, ok := all[k]; return v, ok }, out)
	if err != nil {
		t.Fatalf("Start() = %v", err)
	}
	return p
}

func TestStartRejectsArguments(t *testing.T) {
	_, err := Start(t.Context(), "test", []string{"--port=80"}, func(string) (string, bool) { return "", false }, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "environment") {
		t.Errorf("Start(args) = %v, want an error saying settings come from the environment", err)
	}
}

// failingListener fails its first Accept, as a listener whose socket
// broke would.
type failingListener struct{ net.Listener }

func (failingListener) Accept() (net.Conn, error) { return nil, errors.New("accept: socket broke") }

// TestWaitReturnsServeFailure: a server that stops serving on its own
// ends Wait with an error naming it.
func TestWaitReturnsServeFailure(t *testing.T) {
	p := start(t, nil, io.Discard)
	defer p.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.Serve("public", &http.Server{ReadHeaderTimeout: time.Second}, failingListener{ln})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	sig, err := p.Wait(ctx)
	if err == nil || !strings.Contains(err.Error(), "serve public") || !strings.Contains(err.Error(), "socket broke") {
		t.Errorf("Wait() = %v, %v, want the public server's failure", sig, err)
	}
}

// TestWaitEndsWithContext: a cancelled context stops the process as a
// signal would, with no signal to report.
func TestWaitEndsWithContext(t *testing.T) {
	p := start(t, nil, io.Discard)
	defer p.Close()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if sig, err := p.Wait(ctx); sig != nil || err != nil {
		t.Errorf("Wait(cancelled) = %v, %v, want nil, nil", sig, err)
	}
}

// TestServeAdmin: the admin listener serves the probes, the database's
// check among them, until Close.
func TestServeAdmin(t *testing.T) {
	p := start(t, nil, io.Discard)
	addr, err := p.ServeAdmin(p.Checker())
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get("http://" + addr.String() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /readyz = %d, want 200 with the database up", resp.StatusCode)
	}
	p.Close()
	if _, err := c.Get("http://" + addr.String() + "/livez"); err == nil {
		t.Error("admin listener still answers after Close")
	}
}
