package fleet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// opKind is what a request of the load does.
type opKind int

const (
	opRedirect    opKind = iota // GET /{code} of a link never deleted
	opRead                      // GET /v1/links/{code}
	opList                      // GET /v1/links?limit=20
	opCreate                    // POST /v1/links without Idempotency-Key
	opCreateKeyed               // POST /v1/links with Idempotency-Key
	opReplay                    // the same keyed create again, after its 201
	opRetry                     // a keyed create again, after a failure
	opDelete                    // DELETE /v1/links/{code}
	numOps
)

var opNames = [numOps]string{"redirect", "read", "list", "create", "create+key", "replay", "retry", "delete"}

// mix is the load's share of each operation (replays and retries follow
// keyed creates), in percent.
var mix = []struct {
	op     opKind
	weight int
}{{opRedirect, 36}, {opRead, 16}, {opList, 8}, {opCreate, 18}, {opCreateKeyed, 14}, {opDelete, 8}}

// record is one request of the load.
type record struct {
	op         opKind
	start      time.Time
	dur        time.Duration
	status     int    // 0: no HTTP answer
	err        string // the transport error, when status is 0
	retryAfter bool
	lb         bool // answered by HAProxy itself (no replica named)
	ok         bool // the answer the operation expects
}

// createRec is one logical create: its first attempt and any retries or
// replay share its URL and key.
type createRec struct {
	url    string
	key    string   // "" without Idempotency-Key
	codes  []string // the code of each 201
	doomed bool     // to be deleted later
}

// deleteStats counts what the replicas answered for a deleted code,
// asked directly right after the 204.
type deleteStats struct {
	deletes  int           // 204s
	checks   int           // replica answers read
	stale    int           // a replica still redirected (302) at the first look
	maxLag   time.Duration // longest time until every replica answered 404
	unsettle int           // deletes some replica still served after the bound
}

// loader sends the load and keeps what it needs to check the results.
type loader struct {
	base    string         // HAProxy's frontend
	clients []*http.Client // one per client identity (source address)
	direct  *http.Client   // to replicas without HAProxy
	rate    int            // requests a second
	fl      *fleet

	seq      atomic.Int64
	inflight atomic.Int64
	skipped  atomic.Int64 // ticks with too many requests in flight

	mu        sync.Mutex
	records   []record
	permanent []string // codes never deleted: the redirects' targets
	readable  []string // codes created by the load and not to be deleted
	clicks    map[string]int64
	creates   []*createRec
	deleted   map[string]bool
	del       deleteStats
	doomed    chan string
}

// identities is how many client addresses the load comes from, so that no
// one of them nears the create budget.
const identities = 64

// clientFrom returns a client whose connections come from ip, one of
// loopback's addresses: HAProxy appends it to X-Forwarded-For, and the
// replicas take it as the client's identity.
func clientFrom(ip net.IP, conns int) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 3 * time.Second}
	return &http.Client{
		Timeout: 20 * time.Second,
		Transport: &http.Transport{
			DialContext:         d.DialContext,
			MaxIdleConnsPerHost: conns,
			// Shorter than HAProxy's keep-alive timeout: the client, not
			// the proxy, closes an idle connection, as browsers do.
			IdleConnTimeout:    5 * time.Second,
			DisableCompression: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func newLoader(fl *fleet, rate int) *loader {
	l := &loader{
		base:    fmt.Sprintf("http://127.0.0.1:%d", fl.lb.port),
		direct:  clientFrom(net.IPv4(127, 0, 0, 1), 4),
		rate:    rate,
		fl:      fl,
		clicks:  map[string]int64{},
		deleted: map[string]bool{},
		doomed:  make(chan string, 100_000),
	}
	for i := range identities {
		l.clients = append(l.clients, clientFrom(net.IPv4(127, 0, 1, byte(i+1)), 8))
	}
	return l
}

// send makes one request through HAProxy and, when keep is set, records
// it. want is the status the operation expects.
func (l *loader) send(c *http.Client, op opKind, method, path string, body []byte, hdr map[string]string, want int, keep bool) (int, []byte, http.Header) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, l.base+path, rd)
	if err != nil {
		panic(err) // the test's own method and path
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := record{op: op, start: time.Now()}
	resp, err := c.Do(req)
	var b []byte
	var h http.Header
	if err == nil {
		b, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		rec.status, h = resp.StatusCode, resp.Header
		rec.retryAfter = h.Get("Retry-After") != ""
		rec.lb = h.Get("X-Fleet-Server") == ""
	}
	rec.dur = time.Since(rec.start)
	if err != nil {
		rec.status, rec.err = 0, errClass(err)
	}
	rec.ok = rec.status == want
	if keep {
		l.mu.Lock()
		l.records = append(l.records, rec)
		l.mu.Unlock()
	}
	return rec.status, b, h
}

// errClass names a transport error briefly.
func errClass(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed (EOF)"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	return s
}

// setup creates n links the redirects will follow, never deleted.
func (l *loader) setup(n int) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	sem := make(chan struct{}, 8)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			body := fmt.Appendf(nil, `{"url":"https://example.com/permanent/%d"}`, i)
			st, b, _ := l.send(l.clients[i%identities], opCreate, "POST", "/v1/links", body, writeHeaders(""), http.StatusCreated, false)
			mu.Lock()
			defer mu.Unlock()
			if st != http.StatusCreated {
				errs = append(errs, fmt.Errorf("setup create %d: %d %s", i, st, b))
				return
			}
			var got struct{ Code string }
			if err := json.Unmarshal(b, &got); err != nil || got.Code == "" {
				errs = append(errs, fmt.Errorf("setup create %d: no code in %s", i, b))
				return
			}
			l.permanent = append(l.permanent, got.Code)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func writeHeaders(key string) map[string]string {
	h := map[string]string{"Authorization": "Bearer " + token, "Content-Type": "application/json"}
	if key != "" {
		h["Idempotency-Key"] = key
	}
	return h
}

// run sends the mix at the loader's rate until ctx ends, then waits for
// the requests in flight.
func (l *loader) run(ctx context.Context) {
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / time.Duration(l.rate))
	defer tick.Stop()
	total := 0
	for _, m := range mix {
		total += m.weight
	}
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case <-tick.C:
		}
		if l.inflight.Load() >= 256 {
			l.skipped.Add(1)
			continue
		}
		r := rand.IntN(total)
		op := mix[0].op
		for _, m := range mix {
			if r < m.weight {
				op = m.op
				break
			}
			r -= m.weight
		}
		l.inflight.Add(1)
		wg.Go(func() {
			defer l.inflight.Add(-1)
			l.do(op)
		})
	}
}

func (l *loader) do(op opKind) {
	n := l.seq.Add(1)
	c := l.clients[int(n)%identities]
	switch op {
	case opRedirect:
		code := l.permanent[rand.IntN(len(l.permanent))]
		if st, _, _ := l.send(c, op, "GET", "/"+code, nil, nil, http.StatusFound, true); st == http.StatusFound {
			l.mu.Lock()
			l.clicks[code]++
			l.mu.Unlock()
		}
	case opRead:
		l.mu.Lock()
		code := l.permanent[rand.IntN(len(l.permanent))]
		if len(l.readable) > 0 && rand.IntN(2) == 0 {
			code = l.readable[rand.IntN(len(l.readable))]
		}
		l.mu.Unlock()
		l.send(c, op, "GET", "/v1/links/"+code, nil, nil, http.StatusOK, true)
	case opList:
		l.send(c, op, "GET", "/v1/links?limit=20", nil, nil, http.StatusOK, true)
	case opCreate, opCreateKeyed:
		l.create(c, n, op == opCreateKeyed)
	case opDelete:
		select {
		case code := <-l.doomed:
			l.delete(c, code)
		default:
			l.send(c, opList, "GET", "/v1/links?limit=20", nil, nil, http.StatusOK, true)
		}
	}
}

// create is one logical create: a keyed one is retried after a failure,
// as a client holding a key does, and one in three is replayed after its
// 201.
func (l *loader) create(c *http.Client, n int64, keyed bool) {
	cr := &createRec{url: fmt.Sprintf("https://example.com/load/%d", n), doomed: n%4 == 0}
	if keyed {
		cr.key = "fleet-" + strconv.FormatInt(n, 10)
	}
	l.mu.Lock()
	l.creates = append(l.creates, cr)
	l.mu.Unlock()
	body := fmt.Appendf(nil, `{"url":%q}`, cr.url)
	op := opCreate
	attempts := 1
	if keyed {
		op, attempts = opCreateKeyed, 6
	}
	var code string
	for a := range attempts {
		if a > 0 {
			op = opRetry
		}
		st, b, h := l.send(c, op, "POST", "/v1/links", body, writeHeaders(cr.key), http.StatusCreated, true)
		if st == http.StatusCreated {
			code = l.created(cr, b)
			break
		}
		if st != 0 && st != http.StatusServiceUnavailable && st != http.StatusConflict {
			break
		}
		wait := time.Second
		if s, err := strconv.Atoi(h.Get("Retry-After")); err == nil && s > 0 {
			wait = time.Duration(s) * time.Second
		}
		time.Sleep(min(wait, 5*time.Second))
	}
	if code == "" {
		return
	}
	if keyed && n%3 == 0 {
		time.Sleep(time.Duration(rand.IntN(300)) * time.Millisecond)
		if st, b, _ := l.send(c, opReplay, "POST", "/v1/links", body, writeHeaders(cr.key), http.StatusCreated, true); st == http.StatusCreated {
			l.created(cr, b)
		}
	}
	if cr.doomed {
		l.doomed <- code
		return
	}
	l.mu.Lock()
	l.readable = append(l.readable, code)
	l.mu.Unlock()
}

// created notes the code of a 201 and returns it.
func (l *loader) created(cr *createRec, body []byte) string {
	var got struct{ Code string }
	_ = json.Unmarshal(body, &got)
	l.mu.Lock()
	cr.codes = append(cr.codes, got.Code)
	l.mu.Unlock()
	return got.Code
}

// delete deletes code and, after the 204, asks every replica directly for
// it until each answers 404: the README promises that a deleted code stops
// redirecting on every replica once the delete has answered.
func (l *loader) delete(c *http.Client, code string) {
	st, _, _ := l.send(c, opDelete, "DELETE", "/v1/links/"+code, nil, writeHeaders(""), http.StatusNoContent, true)
	if st != http.StatusNoContent {
		if st == http.StatusServiceUnavailable || st == 0 {
			l.doomed <- code // try again later, as a client would
		}
		return
	}
	done := time.Now()
	l.mu.Lock()
	l.deleted[code] = true
	l.mu.Unlock()
	var stale, checks int
	settled := false
	var lag time.Duration
	for first := true; ; first = false {
		gone := true
		for _, port := range l.fl.webPorts() {
			resp, err := l.direct.Get(fmt.Sprintf("http://127.0.0.1:%d/%s", port, code))
			if err != nil {
				continue // a replica stopping meanwhile
			}
			resp.Body.Close()
			if first {
				checks++
			}
			if resp.StatusCode == http.StatusFound {
				gone = false
				if first {
					stale++
				}
			}
		}
		if gone {
			settled, lag = true, time.Since(done)
			break
		}
		if time.Since(done) > deleteBound+2*time.Second {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.del.deletes++
	l.del.checks += checks
	l.del.stale += stale
	if !settled {
		l.del.unsettle++
	} else if stale > 0 {
		l.del.maxLag = max(l.del.maxLag, lag)
	}
}

// deleteBound is how long after a delete's 204 a replica may still
// redirect its code: none. The README's DELETE row says the code stops
// redirecting on every replica (a tombstone in the shared cache).
const deleteBound = 0

// budgetResult is what the rate-limit probe saw.
type budgetResult struct {
	limit, each    int   // the budget, and the creates each client sent
	allowed        []int // 201s, by client
	limited, other int
	servers        map[string]int // replicas that answered the creates
}

// probeClients is how many clients the probe runs at once: each is an
// independent chance for the limit to let one more through at its edge.
const probeClients = 6

// budget sends, from each of probeClients client identities at once,
// twice the budget's worth of creates, six at a time, spread over the
// replicas by HAProxy's round robin, inside one rate-limit window; at most
// the budget may succeed for each.
func (l *loader) budget() budgetResult {
	// Start just after a window boundary, so the burst fits in one window
	// and the sliding estimate carries nothing from the previous one.
	now := time.Now()
	next := now.Truncate(rateWindow).Add(rateWindow + 200*time.Millisecond)
	time.Sleep(next.Sub(now))
	res := budgetResult{limit: createLimit, each: 2 * createLimit, allowed: make([]int, probeClients), servers: map[string]int{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for client := range probeClients {
		ip := net.IPv4(127, 0, 0, byte(200+client))
		c := clientFrom(ip, 8)
		sem := make(chan struct{}, 6)
		for i := range res.each {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				url := fmt.Sprintf("https://example.com/budget/%s/%d", ip, i)
				st, b, h := l.send(c, opCreate, "POST", "/v1/links", fmt.Appendf(nil, `{"url":%q}`, url), writeHeaders(""), http.StatusCreated, false)
				mu.Lock()
				defer mu.Unlock()
				res.servers[h.Get("X-Fleet-Server")]++
				switch st {
				case http.StatusCreated:
					res.allowed[client]++
					cr := &createRec{url: url}
					l.created(cr, b)
					l.mu.Lock()
					l.creates = append(l.creates, cr)
					l.mu.Unlock()
				case http.StatusTooManyRequests:
					res.limited++
				default:
					res.other++
				}
			})
		}
	}
	wg.Wait()
	return res
}
