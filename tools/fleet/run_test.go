package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// phase is a named stretch of the run.
type phase struct {
	name       string
	start, end time.Time
}

// window is an outage: from the moment the service was stopped to the
// moment it answered again.
type window struct{ start, end time.Time }

func (w window) set() bool { return !w.start.IsZero() }

// step is one thing done to the fleet under load; its duration is a phase.
type step struct {
	name string
	do   func() error
}

// runResult is everything a run observed; failures judges it.
type runResult struct {
	name           string
	rate           int
	t0, loadEnd    time.Time
	phases         []phase
	records        []record
	skipped        int64
	pgOutage       window
	redisOutage    window
	stops          []stopRecord
	unexpected     []string
	budget         *budgetResult
	del            deleteStats
	clicksSent     int64
	clicksCounted  int64
	clicksPending  int64
	clicksSettled  time.Duration // load end to clicks counted
	createChecks   []string      // failed checks of the creates
	creates, ok201 int
	replays        int
	releaseRows    int // links written by generation 2's new column; -1: no release
	rssPeak        map[string]int64
	stepErrs       []string
}

// The bounds the checks apply.
const (
	// pgBound: after Postgres answers again, how long failures may go
	// on. A replica finds the restart on its next query (pgx drops the
	// broken connections), /readyz is cached for READY_CACHE_TTL (1 s),
	// and HAProxy needs checkRise passing checks to route again.
	pgBound = 5 * time.Second
	// redisBound: after Redis answers again, how long deletes may still
	// be refused. Each replica skips Redis for 5 s after a failure (the
	// breaker of internal/kv), and a delete must reach Redis to leave its
	// tombstone, so it answers 503 until then.
	redisBound = 7 * time.Second
	// rssBound is the memory limit of a pod in deploy/kubernetes
	// (256Mi), for every process of the app; the others get twice that.
	rssBound      = 256 * 1024
	rssBoundOther = 512 * 1024
)

// runFleet loads the fleet at rate, performs plan's steps in order while
// the load runs, keeps the load on until minLoad has passed, then
// gathers what the checks need.
func runFleet(t *testing.T, f *fleet, name string, rate int, minLoad time.Duration, plan func(*runResult, *loader) []step) *runResult {
	t.Helper()
	l := newLoader(f, rate)
	if err := l.setup(120); err != nil {
		t.Fatal(err)
	}
	r := &runResult{name: name, rate: rate, releaseRows: -1}
	steps := plan(r, l)
	ctx, cancel := context.WithCancel(context.Background())
	rssCtx, stopRSS := context.WithCancel(context.Background())
	go f.rss.run(rssCtx)
	loadDone := make(chan struct{})
	r.t0 = time.Now()
	go func() { l.run(ctx); close(loadDone) }()
	for _, s := range steps {
		p := phase{name: s.name, start: time.Now()}
		if err := s.do(); err != nil {
			r.stepErrs = append(r.stepErrs, fmt.Sprintf("%s: %v", s.name, err))
			t.Logf("step %s: %v", s.name, err)
		}
		p.end = time.Now()
		r.phases = append(r.phases, p)
		t.Logf("%6.1fs  %s done", time.Since(r.t0).Seconds(), s.name)
	}
	if rest := minLoad - time.Since(r.t0); rest > 0 {
		p := phase{name: "steady", start: time.Now()}
		time.Sleep(rest)
		p.end = time.Now()
		r.phases = append(r.phases, p)
	}
	cancel()
	<-loadDone
	r.loadEnd = time.Now()
	r.skipped = l.skipped.Load()
	r.unexpected = f.unexpectedExits()

	r.checkLinks(t, f, l)
	f.stopWeb()
	r.countClicks(t, f, l)
	for _, w := range f.workers {
		f.stop(w, false)
	}
	stopRSS()
	r.records = l.records
	r.del = l.del
	r.stops = f.stops
	r.rssPeak = f.rss.peaks()
	return r
}

// checkLinks reads every link a create was answered 201 for, through
// HAProxy, and sets the creates against the database: one link per
// logical create, the same code for every answer of one key, no code
// given to two creates.
func (r *runResult) checkLinks(t *testing.T, f *fleet, l *loader) {
	t.Helper()
	conn := f.pg.connect(t)
	byURL := map[string][]string{}
	rows, err := conn.Query(context.Background(), `SELECT url, code FROM links`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var u, c string
		if err := rows.Scan(&u, &c); err != nil {
			t.Fatal(err)
		}
		byURL[u] = append(byURL[u], c)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var fails []string
	owner := map[string]string{} // code → URL of the create it was given to
	var toRead []string
	for _, cr := range l.creates {
		r.creates++
		inDB := byURL[cr.url]
		if len(cr.codes) == 0 {
			if len(inDB) > 1 {
				fails = append(fails, fmt.Sprintf("create of %s (never answered 201) made %d links", cr.url, len(inDB)))
			}
			continue
		}
		r.ok201++
		r.replays += len(cr.codes) - 1
		code := cr.codes[0]
		for _, c := range cr.codes[1:] {
			if c != code {
				fails = append(fails, fmt.Sprintf("key %s answered codes %s and %s", cr.key, code, c))
			}
		}
		if o, ok := owner[code]; ok && o != cr.url {
			fails = append(fails, fmt.Sprintf("code %s given to two creates (%s and %s)", code, o, cr.url))
		}
		owner[code] = cr.url
		switch {
		case l.deleted[code]:
			if len(inDB) != 0 {
				fails = append(fails, fmt.Sprintf("deleted code %s still stored", code))
			}
		case len(inDB) != 1:
			fails = append(fails, fmt.Sprintf("create of %s (key %q, answered 201) made %d links, want 1", cr.url, cr.key, len(inDB)))
		case inDB[0] != code:
			fails = append(fails, fmt.Sprintf("create of %s answered code %s, stored %s", cr.url, code, inDB[0]))
		default:
			toRead = append(toRead, code)
		}
	}
	// Every link answered 201 and not deleted is readable through the
	// fleet, with its URL.
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	c := clientFrom(net.IPv4(127, 0, 0, 1), 8)
	for _, code := range toRead {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			resp, err := c.Get(l.base + "/v1/links/" + code)
			var got struct{ URL string }
			status := 0
			if err == nil {
				status = resp.StatusCode
				_ = json.NewDecoder(resp.Body).Decode(&got)
				resp.Body.Close()
			}
			if status != http.StatusOK || got.URL != owner[code] {
				mu.Lock()
				fails = append(fails, fmt.Sprintf("GET /v1/links/%s after the run = %d %v, want 200 with its URL", code, status, err))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	r.createChecks = fails
	// The release's new column: written by generation 2, when the run
	// had a release.
	var n int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM links WHERE created_by_release = 'gen2'`).Scan(&n); err == nil {
		r.releaseRows = n
	}
	r.clicksSent = 0
	for _, n := range l.clicks {
		r.clicksSent += n
	}
}

// countClicks waits, the replicas stopped, until the workers have folded
// the whole click log, and reads the counts of the redirects' links.
func (r *runResult) countClicks(t *testing.T, f *fleet, l *loader) {
	t.Helper()
	conn := f.pg.connect(t)
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := conn.QueryRow(context.Background(),
			`SELECT (SELECT coalesce(sum(clicks), 0) FROM links WHERE code = ANY($1)), (SELECT count(*) FROM click_events)`,
			l.permanent).Scan(&r.clicksCounted, &r.clicksPending)
		if err != nil {
			t.Fatalf("count clicks: %v", err)
		}
		if r.clicksPending == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	r.clicksSettled = time.Since(r.loadEnd)
}

// failures judges a run: each line is one guarantee broken, empty when
// the fleet kept them all.
func (r *runResult) failures() []string {
	var out []string
	out = append(out, r.stepErrs...)
	// Requests: none may fail, except 503s with Retry-After while
	// Postgres is down (and pgBound after), and deletes refused with 503
	// while Redis is down (and redisBound after).
	type key struct{ phase, what string }
	bad := map[key]int{}
	var order []key
	for _, rec := range r.records {
		if rec.ok || r.allowed(rec) {
			continue
		}
		k := key{r.phaseOf(rec.start), describe(rec)}
		if bad[k] == 0 {
			order = append(order, k)
		}
		bad[k]++
	}
	for _, k := range order {
		out = append(out, fmt.Sprintf("%s: %d × %s", k.phase, bad[k], k.what))
	}
	if r.pgOutage.set() && !r.recoveredAfter(r.pgOutage.end.Add(pgBound)) {
		out = append(out, "no request succeeded after the Postgres restart: the fleet did not recover")
	}
	for _, s := range r.stops {
		switch {
		case s.err != nil:
			out = append(out, fmt.Sprintf("%s, stopped with %v: %v, want exit 0 after a drain", s.name, s.signal, s.err))
		case s.took > stopBudget:
			out = append(out, fmt.Sprintf("%s took %v to stop, over the budget %v", s.name, s.took.Round(time.Millisecond), stopBudget))
		}
		if s.web && s.lbDownAt < 0 {
			out = append(out, fmt.Sprintf("%s exited while HAProxy still routed to it: readiness did not drop before the exit", s.name))
		}
	}
	out = append(out, r.unexpected...)
	if b := r.budget; b != nil {
		for i, n := range b.allowed {
			if n > b.limit {
				out = append(out, fmt.Sprintf("rate limit: client %d of the probe, spread over the replicas, got %d creates, budget %d", i+1, n, b.limit))
			}
		}
		if b.other > 0 {
			out = append(out, fmt.Sprintf("rate limit: %d of the probe's creates were neither 201 nor 429", b.other))
		}
	}
	if r.del.stale > 0 || r.del.unsettle > 0 {
		out = append(out, fmt.Sprintf("deletes: %d replica answers still redirected a code right after its 204 (%d deletes never settled within %v)",
			r.del.stale, r.del.unsettle, deleteBound+2*time.Second))
	}
	if r.clicksCounted != r.clicksSent || r.clicksPending != 0 {
		out = append(out, fmt.Sprintf("clicks: %d counted (%d log rows left unfolded), %d redirects answered 302", r.clicksCounted, r.clicksPending, r.clicksSent))
	}
	out = append(out, r.createChecks...)
	if r.releaseRows == 0 {
		out = append(out, "release: no link carries generation 2's new column: the new code did not write it")
	}
	for name, kb := range r.rssPeak {
		bound := int64(rssBoundOther)
		if strings.HasPrefix(name, "web") || strings.HasPrefix(name, "worker") {
			bound = rssBound
		}
		if kb > bound {
			out = append(out, fmt.Sprintf("memory: %s peaked at %d MiB, bound %d MiB", name, kb/1024, bound/1024))
		}
	}
	return out
}

// allowed says whether a failed request falls in an outage it may fail
// in, the way it may fail there.
func (r *runResult) allowed(rec record) bool {
	if rec.status != http.StatusServiceUnavailable || !rec.retryAfter {
		return false
	}
	end := rec.start.Add(rec.dur)
	in := func(w window, bound time.Duration) bool {
		return w.set() && end.After(w.start) && rec.start.Before(w.end.Add(bound))
	}
	if in(r.pgOutage, pgBound) {
		return true
	}
	return rec.op == opDelete && in(r.redisOutage, redisBound)
}

// recoveredAfter says whether requests succeeded after t.
func (r *runResult) recoveredAfter(t time.Time) bool {
	for _, rec := range r.records {
		if rec.ok && rec.start.After(t) {
			return true
		}
	}
	return false
}

func (r *runResult) phaseOf(t time.Time) string {
	for _, p := range r.phases {
		if !t.Before(p.start) && t.Before(p.end) {
			return p.name
		}
	}
	return "after the steps"
}

// describe names a failed request's outcome.
func describe(rec record) string {
	s := opNames[rec.op] + " "
	switch {
	case rec.status == 0:
		return s + rec.err
	case rec.lb:
		return s + fmt.Sprintf("%d from HAProxy", rec.status)
	case rec.status == http.StatusServiceUnavailable && rec.retryAfter:
		return s + "503 with Retry-After"
	}
	return s + fmt.Sprintf("%d", rec.status)
}

// generations builds the template tree at ../.. (generation 1) and, when
// release is set, a copy of it with the release patch (generation 2),
// once per test binary.
func generations(t *testing.T, release bool) []generation {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "fleet-bin")
		if err != nil {
			buildErr = err
			return
		}
		builtDir = dir
		src, _ := filepath.Abs(filepath.Join("..", ".."))
		g1 := generation{name: "gen1", bin: filepath.Join(dir, "gen1")}
		start := time.Now()
		if buildErr = buildTree(context.Background(), src, g1.bin); buildErr != nil {
			return
		}
		built = append(built, g1)
		fmt.Printf("fleet: built generation 1 in %v\n", time.Since(start).Round(time.Second))
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	if release && len(built) == 1 {
		src, _ := filepath.Abs(filepath.Join("..", ".."))
		tree := filepath.Join(builtDir, "tree2")
		if err := copyTree(src, tree); err != nil {
			t.Fatal(err)
		}
		if err := patchRelease(tree); err != nil {
			t.Fatal(err)
		}
		g2 := generation{name: "gen2", bin: filepath.Join(builtDir, "gen2")}
		start := time.Now()
		if err := buildTree(context.Background(), tree, g2.bin); err != nil {
			t.Fatal(err)
		}
		built = append(built, g2)
		fmt.Printf("fleet: built generation 2 in %v\n", time.Since(start).Round(time.Second))
	}
	return slices.Clone(built)
}

var (
	buildOnce sync.Once
	buildErr  error
	builtDir  string
	built     []generation
)

func TestMain(m *testing.M) {
	code := m.Run()
	if builtDir != "" {
		os.RemoveAll(builtDir)
	}
	os.Exit(code)
}
