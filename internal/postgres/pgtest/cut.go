package pgtest

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dozen-go/dozen/internal/config"
)

// CommitCutter is a TCP proxy on loopback in front of the test server
// that loses the outcome of commits on demand. Armed, it forwards the next
// COMMIT to the server, lets the server apply it, and closes both
// connections when the server's reply arrives, before any of it reaches
// the client: the transaction committed, and the client cannot know.
//
// It reads the client's side of the wire protocol: a simple-protocol
// query ('Q') that is COMMIT, or an extended-protocol Execute of a
// statement parsed from COMMIT, cut at the Sync that follows it.
type CommitCutter struct {
	ln     net.Listener
	target string
	cuts   atomic.Int64
	onCut  atomic.Pointer[func()]

	mu     sync.Mutex
	skip   int // commits to let through before cutting
	armed  int // commits to cut
	closed bool
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

// NewCommitCutter starts a CommitCutter in front of the server of u, a
// URL from NewDatabase, and returns the URL that reaches u's database
// through it. It stops when the test ends.
func NewCommitCutter(t testing.TB, u config.URL) (config.URL, *CommitCutter) {
	t.Helper()
	p, err := url.Parse(u.Value())
	if err != nil {
		t.Fatalf("pgtest: database URL: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &CommitCutter{ln: ln, target: p.Host, conns: map[net.Conn]struct{}{}}
	c.wg.Go(c.accept)
	t.Cleanup(c.close)
	p.Host = ln.Addr().String()
	proxied, err := config.ParseURL(p.String())
	if err != nil {
		t.Fatal(err)
	}
	return proxied, c
}

// Arm makes the proxy cut the next n commits, on any connection.
func (c *CommitCutter) Arm(n int) { c.ArmAfter(0, n) }

// ArmAfter makes the proxy let skip commits through, then cut the n
// after them.
func (c *CommitCutter) ArmAfter(skip, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.skip, c.armed = skip, n
}

// OnCut sets a function to run at each cut once the server has applied
// the commit and before the client's connection closes: an outage that
// begins just then, for instance.
func (c *CommitCutter) OnCut(f func()) { c.onCut.Store(&f) }

// Cuts returns how many commits the proxy has cut: forwarded, applied,
// and their replies dropped.
func (c *CommitCutter) Cuts() int { return int(c.cuts.Load()) }

func (c *CommitCutter) close() {
	c.ln.Close()
	c.mu.Lock()
	c.closed = true
	for conn := range c.conns {
		conn.Close()
	}
	c.mu.Unlock()
	c.wg.Wait()
}

// track adds conn to the connections closed with the proxy. When the
// proxy is closing it closes conn instead and returns false.
func (c *CommitCutter) track(conn net.Conn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		conn.Close()
		return false
	}
	c.conns[conn] = struct{}{}
	return true
}

func (c *CommitCutter) untrack(conn net.Conn) {
	c.mu.Lock()
	delete(c.conns, conn)
	c.mu.Unlock()
	conn.Close()
}

func (c *CommitCutter) accept() {
	for {
		client, err := c.ln.Accept()
		if err != nil {
			return
		}
		if c.track(client) {
			c.wg.Go(func() { c.serve(client) })
		}
	}
}

// take reports whether the commit being forwarded is to be cut, using up
// one of the armed cuts.
func (c *CommitCutter) take() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.armed <= 0:
		return false
	case c.skip > 0:
		c.skip--
		return false
	}
	c.armed--
	return true
}

// serve forwards one client connection: the server's bytes back as they
// come, the client's message by message, watching for COMMIT.
func (c *CommitCutter) serve(client net.Conn) {
	defer c.untrack(client)
	server, err := net.DialTimeout("tcp", c.target, 5*time.Second)
	if err != nil {
		return
	}
	if !c.track(server) {
		return
	}
	defer c.untrack(server)

	var cutting atomic.Bool
	c.wg.Go(func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := server.Read(buf)
			if cutting.Load() {
				// The reply to the cut commit: the server has applied it.
				// Drop it and end both sides.
				if f := c.onCut.Load(); f != nil {
					(*f)()
				}
				c.cuts.Add(1)
				client.Close()
				server.Close()
				return
			}
			if n > 0 {
				if _, werr := client.Write(buf[:n]); werr != nil {
					server.Close()
					return
				}
			}
			if err != nil {
				client.Close()
				return
			}
		}
	})

	r := bufio.NewReader(client)
	w := commitWatcher{statements: map[string]bool{}, portals: map[string]bool{}}
	startup := true
	for {
		msg, err := readMessage(r, startup)
		if err != nil {
			return
		}
		if startup {
			// SSLRequest and GSSENCRequest come before the startup message.
			code := binary.BigEndian.Uint32(msg[4:8])
			startup = code == 80877103 || code == 80877104
		} else if w.commits(msg) && c.take() {
			cutting.Store(true) // before the server can answer
		}
		if _, err := server.Write(msg); err != nil {
			return
		}
	}
}

// readMessage reads one message from the client: during startup an
// untyped one (length, then body), after it a typed one.
func readMessage(r *bufio.Reader, startup bool) ([]byte, error) {
	head := 5
	if startup {
		head = 4
	}
	msg := make([]byte, head)
	if _, err := io.ReadFull(r, msg); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint32(msg[head-4:]))
	if n < 4 || n > 64<<20 {
		return nil, fmt.Errorf("pgtest: message length %d", n)
	}
	if startup && n < 8 {
		return nil, errors.New("pgtest: short startup message")
	}
	msg = append(msg, make([]byte, n-4)...)
	if _, err := io.ReadFull(r, msg[head:]); err != nil {
		return nil, err
	}
	return msg, nil
}

// commitWatcher follows one connection's messages to tell when the one
// being sent makes the server commit.
type commitWatcher struct {
	statements map[string]bool // prepared statement name → its SQL is COMMIT
	portals    map[string]bool // portal name → bound to a COMMIT statement
	executed   bool            // an Execute of COMMIT waits for its Sync
}

// commits reports whether msg, a typed message, is where the server
// commits: a simple COMMIT query, or the Sync after an Execute of one.
func (w *commitWatcher) commits(msg []byte) bool {
	body := msg[5:]
	switch msg[0] {
	case 'Q':
		return isCommit(cString(body))
	case 'P': // Parse: statement name, query
		name := cString(body)
		w.statements[name] = isCommit(cString(body[min(len(name)+1, len(body)):]))
	case 'B': // Bind: portal name, statement name
		portal := cString(body)
		w.portals[portal] = w.statements[cString(body[min(len(portal)+1, len(body)):])]
	case 'E': // Execute: portal name
		w.executed = w.executed || w.portals[cString(body)]
	case 'S':
		done := w.executed
		w.executed = false
		return done
	}
	return false
}

// cString returns b up to its first NUL.
func cString(b []byte) string {
	if i := strings.IndexByte(string(b), 0); i >= 0 {
		return string(b[:i])
	}
	return string(b)
}

func isCommit(query string) bool {
	q := strings.TrimSpace(strings.TrimRight(strings.TrimSpace(query), ";"))
	return strings.EqualFold(q, "commit") || strings.EqualFold(q, "commit transaction") || strings.EqualFold(q, "end")
}
