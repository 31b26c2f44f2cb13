package deploy

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dozen-go/dozen/tools/internal/proctest"
)

// running is one process of the app, started from the built binaries.
type running struct {
	process
	port, adminPort string // its PORT and the port of its ADMIN_ADDR, on loopback
	proc            *exec.Cmd
	logs            *lockedBuffer
	exited          chan struct{}
	err             error // once exited is closed
}

// appRun says where and how to run the binaries in bin.
type appRun struct {
	bin    string // directory of the binaries
	chroot bool   // run them chrooted into bin, with a writable bin/tmp
}

// command prepares process p with its settings as its only environment:
// loopback ports, the embedded database in a writable directory, no drain
// delay (no load balancer here to wait for).
func (a appRun) command(t *testing.T, p process, dataDir string) *running {
	t.Helper()
	r := &running{process: p, port: strconv.Itoa(proctest.FreePort(t)), adminPort: strconv.Itoa(proctest.FreePort(t)), logs: &lockedBuffer{}}
	path := filepath.Join(a.bin, p.cmd)
	if a.chroot {
		path = "/" + p.cmd
	}
	r.proc = exec.Command(path, strings.Fields(p.args)...)
	r.proc.Env = []string{
		"PORT=" + r.port,
		"ADMIN_ADDR=127.0.0.1:" + r.adminPort,
		"DATA_DIR=" + dataDir,
		"DRAIN_DELAY=0s",
	}
	r.proc.Stdout, r.proc.Stderr = r.logs, r.logs
	if a.chroot {
		r.proc.Dir = "/"
		r.proc.SysProcAttr = &syscall.SysProcAttr{Chroot: a.bin}
	}
	return r
}

// start runs the app as a platform does: every release process to a zero
// exit, then every other process, each until it listens on its admin
// port, and web until it answers /livez. The processes are killed when
// the test ends, unless stopped before.
func (a appRun) start(t *testing.T) []*running {
	t.Helper()
	dataDir := filepath.Join(t.TempDir(), "data")
	if a.chroot {
		if err := os.MkdirAll(filepath.Join(a.bin, "tmp"), 0o1777); err != nil {
			t.Fatal(err)
		}
		dataDir = "/tmp/data"
	}
	for _, p := range processes {
		if p.procType != "release" {
			continue
		}
		r := a.command(t, p, dataDir)
		if err := r.proc.Run(); err != nil {
			t.Fatalf("%s: %v, want exit 0\n%s", r.line(), err, r.logs)
		}
	}
	var rs []*running
	for _, p := range processes {
		if p.procType == "release" {
			continue
		}
		r := a.command(t, p, dataDir)
		if err := r.proc.Start(); err != nil {
			t.Fatalf("start %s: %v", r.line(), err)
		}
		r.exited = make(chan struct{})
		go func() { r.err = r.proc.Wait(); close(r.exited) }()
		t.Cleanup(func() {
			r.proc.Process.Kill()
			<-r.exited
		})
		rs = append(rs, r)
		r.waitListening(t)
		if p.procType == "web" {
			proctest.WaitOK(t, "http://127.0.0.1:"+r.port+"/livez", r.exited)
		}
	}
	return rs
}

func (r *running) line() string { return strings.TrimSpace(r.cmd + " " + r.args) }

// waitListening waits until the process accepts connections on its admin
// port: by then it has set up its signal handling too.
func (r *running) waitListening(t *testing.T) {
	t.Helper()
	waitListening(t, r.line(), "127.0.0.1:"+r.adminPort, r.exited, r.logs)
}

// waitListening waits until addr accepts connections, or fails the test
// with the process's output if it exits first or takes too long.
func waitListening(t *testing.T, what, addr string, exited <-chan struct{}, logs fmt.Stringer) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-exited:
			t.Fatalf("%s exited before listening on %s\n%s", what, addr, logs)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not listen on %s: %v\n%s", what, addr, err, logs)
		}
	}
}

// stop sends SIGTERM and checks that the process exits 0.
func (r *running) stop(t *testing.T) {
	t.Helper()
	select {
	case <-r.exited:
		t.Fatalf("%s exited while it should run: %v\n%s", r.line(), r.err, r.logs)
	default:
	}
	if err := r.proc.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-r.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s still running 30s after SIGTERM\n%s", r.line(), r.logs)
	}
	if r.err != nil {
		t.Errorf("%s after SIGTERM: %v, want exit 0\n%s", r.line(), r.err, r.logs)
	}
}
