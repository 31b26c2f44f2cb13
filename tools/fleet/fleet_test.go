package fleet

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dozen-go/dozen/tools/internal/proctest"
)

// The fleet's settings, the same for every process.
const (
	token = "fleet-token-0123456789abcdef"
	// drainDelay outlasts HAProxy's detection of a failing /readyz
	// (checkFall × checkInter, plus a check in flight) with margin for a
	// loaded machine.
	drainDelay      = 3 * time.Second
	shutdownTimeout = 10 * time.Second
	// The create budget: createLimit per rateWindow per client.
	createLimit = 20
	rateWindow  = 10 * time.Second
)

// stopBudget is how long a SIGTERMed process may take: the drain delay
// and the shutdown timeout, plus slack for the last log flush.
const stopBudget = drainDelay + shutdownTimeout + 2*time.Second

// generation is one build of the template: its binaries.
type generation struct {
	name string
	bin  string
}

// member is a web replica or a worker the test started.
type member struct {
	*proc
	gen       string
	slot      int // HAProxy slot (web only)
	port      int // public port (web only)
	adminPort int
}

// stopRecord is how one member stopped.
type stopRecord struct {
	name     string
	signal   syscall.Signal
	err      error         // its exit: nil is exit 0
	took     time.Duration // signal to exit
	lbDownAt time.Duration // signal to HAProxy marking it not UP; -1 if never seen before the exit
	web      bool
}

// fleet is everything the test runs.
type fleet struct {
	t      *testing.T
	dir    string
	tl     tools
	pg     *postgres
	redis  *redis
	lb     *haproxy
	rss    *rssSampler
	common []string // environment of every app process

	mu      sync.Mutex
	web     []*member // the serving replicas, by replica index
	workers []*member
	stops   []stopRecord
	seq     int
	// stopSignal is what stops a member: SIGTERM, or SIGKILL to sabotage
	// the drain.
	stopSignal syscall.Signal
}

// newFleet starts Postgres, Redis and HAProxy, migrates with gen, and
// starts web replicas and workers of gen.
func newFleet(t *testing.T, tl tools, gen generation, replicas, workers int) *fleet {
	t.Helper()
	f := &fleet{t: t, dir: tempDir(t), tl: tl, rss: newRSSSampler(), stopSignal: syscall.SIGTERM}
	f.pg = startPostgres(t, tl.pgBin)
	f.redis = startRedis(t, tl.redis, f.dir)
	f.lb = startHAProxy(t, tl.haproxy, f.dir, 2*replicas)
	f.rss.watch("postgres", f.pg.pid)
	f.rss.watch("redis", f.redis.pid)
	f.rss.watch("haproxy", f.lb.p.pid)
	f.common = []string{
		"PATH=" + os.Getenv("PATH"),
		"DATABASE_URL=" + f.pg.url(),
		"REDIS_URL=" + f.redis.url(),
		"REDIS_KEY_PREFIX=fleet:",
		"API_TOKENS=" + token,
		"TRUSTED_PROXIES=1",
		"DRAIN_DELAY=" + drainDelay.String(),
		"SHUTDOWN_TIMEOUT=" + shutdownTimeout.String(),
		"CREATE_RATE_LIMIT=" + strconv.Itoa(createLimit),
		"RATE_LIMIT_WINDOW=" + rateWindow.String(),
		"DATABASE_MAX_CONNS=8",
		"LOG_LEVEL=info",
		"LOG_FLUSH_INTERVAL=0s",
	}
	if err := f.migrate(gen); err != nil {
		t.Fatal(err)
	}
	f.web = make([]*member, replicas)
	for i := range replicas {
		m, err := f.startWeb(gen, i)
		if err != nil {
			t.Fatal(err)
		}
		f.web[i] = m
	}
	for range workers {
		m, err := f.startWorker(gen)
		if err != nil {
			t.Fatal(err)
		}
		f.workers = append(f.workers, m)
	}
	return f
}

// migrate runs gen's admin migrate up, as a release phase does.
func (f *fleet) migrate(gen generation) error {
	f.seq++
	p := start(f.t, f.dir, fmt.Sprintf("admin-%s-%d", gen.name, f.seq), filepath.Join(gen.bin, "admin"), []string{"migrate", "up"}, f.common)
	<-p.done
	if p.err != nil {
		return fmt.Errorf("admin migrate up (%s): %v\n%s", gen.name, p.err, p.tail(20))
	}
	return nil
}

// startWeb starts a web replica of gen for replica index i on the slot
// that is not in use, waits until it is ready on its own /readyz, puts its
// slot in service and waits until HAProxy has it UP.
func (f *fleet) startWeb(gen generation, i int) (*member, error) {
	slot := i
	if old := f.webAt(i); old != nil && old.slot == i {
		slot = i + len(f.lb.slots)/2
	}
	f.seq++
	m := &member{gen: gen.name, slot: slot, port: f.lb.slots[slot], adminPort: proctest.FreePort(f.t)}
	name := fmt.Sprintf("web%d-%s-%d", i, gen.name, f.seq)
	env := append(append([]string{}, f.common...), "PORT="+strconv.Itoa(m.port), "ADMIN_ADDR=127.0.0.1:"+strconv.Itoa(m.adminPort))
	m.proc = start(f.t, f.dir, name, filepath.Join(gen.bin, "server"), nil, env)
	f.rss.watch(name, m.livePID)
	if err := waitFor(name+" /readyz", 30*time.Second, m.proc, func() bool {
		return httpOK(fmt.Sprintf("http://127.0.0.1:%d/readyz", m.port))
	}); err != nil {
		return nil, err
	}
	if err := f.lb.setState(slot, "ready"); err != nil {
		return nil, fmt.Errorf("haproxy: put s%d in service: %w", slot, err)
	}
	if err := waitFor(name+" UP in haproxy", 30*time.Second, m.proc, func() bool {
		return f.lb.slotStatus(slot) == "UP"
	}); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *member) livePID() int {
	if m.running() {
		return m.pid()
	}
	return 0
}

func (f *fleet) webAt(i int) *member {
	f.mu.Lock()
	defer f.mu.Unlock()
	if i < len(f.web) {
		return f.web[i]
	}
	return nil
}

// webPorts returns the public ports of the replicas in service.
func (f *fleet) webPorts() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ports []int
	for _, m := range f.web {
		if m != nil && m.running() {
			ports = append(ports, m.port)
		}
	}
	return ports
}

// startWorker starts a worker of gen and waits until it is ready.
func (f *fleet) startWorker(gen generation) (*member, error) {
	f.seq++
	m := &member{gen: gen.name, adminPort: proctest.FreePort(f.t)}
	name := fmt.Sprintf("worker-%s-%d", gen.name, f.seq)
	env := append(append([]string{}, f.common...), "ADMIN_ADDR=127.0.0.1:"+strconv.Itoa(m.adminPort))
	m.proc = start(f.t, f.dir, name, filepath.Join(gen.bin, "worker"), nil, env)
	f.rss.watch(name, m.livePID)
	return m, waitFor(name+" /readyz", 30*time.Second, m.proc, func() bool {
		return httpOK(fmt.Sprintf("http://127.0.0.1:%d/readyz", m.adminPort))
	})
}

// stop stops m with the fleet's stop signal and records how: its exit,
// how long it took and, for a replica, whether HAProxy stopped routing to
// it before it exited. The replica's slot goes out of service after.
func (f *fleet) stop(m *member, web bool) {
	rec := stopRecord{name: m.name, signal: f.stopSignal, lbDownAt: -1, web: web}
	begin := time.Now()
	watching := make(chan struct{})
	if web {
		go func() {
			defer close(watching)
			for m.running() {
				if s := f.lb.slotStatus(m.slot); s != "" && s != "UP" && !isUpGoingDown(s) {
					rec.lbDownAt = time.Since(begin)
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		}()
	} else {
		close(watching)
	}
	rec.err = m.signalAndWait(f.stopSignal, stopBudget+5*time.Second)
	rec.took = m.ended.Sub(begin)
	<-watching
	if web {
		if err := f.lb.setState(m.slot, "maint"); err != nil {
			f.t.Errorf("haproxy: take s%d out of service: %v", m.slot, err)
		}
	}
	f.mu.Lock()
	f.stops = append(f.stops, rec)
	f.mu.Unlock()
}

// isUpGoingDown: "UP 1/2" is a server HAProxy still routes to.
func isUpGoingDown(s string) bool { return len(s) > 3 && s[:3] == "UP " }

// rollWeb replaces every replica with one of gen, one at a time, as a
// Deployment with maxUnavailable 0 does: start the new one, wait until it
// is ready, then stop the old one.
func (f *fleet) rollWeb(gen generation) error {
	for i := range f.web {
		m, err := f.startWeb(gen, i)
		if err != nil {
			return err
		}
		old := f.webAt(i)
		f.mu.Lock()
		f.web[i] = m
		f.mu.Unlock()
		f.stop(old, true)
	}
	return nil
}

// rollWorkers replaces every worker with one of gen, one at a time.
func (f *fleet) rollWorkers(gen generation) error {
	for i, old := range f.workers {
		m, err := f.startWorker(gen)
		if err != nil {
			return err
		}
		f.workers[i] = m
		f.stop(old, false)
	}
	return nil
}

// stopWeb stops every replica at once, with SIGTERM whatever the fleet's
// stop signal: the end of the run is not under test, and their last
// click flush must land before the clicks are counted.
func (f *fleet) stopWeb() {
	sig := f.stopSignal
	f.stopSignal = syscall.SIGTERM
	defer func() { f.stopSignal = sig }()
	var wg sync.WaitGroup
	for _, m := range f.web {
		wg.Go(func() { f.stop(m, true) })
	}
	wg.Wait()
}

// unexpectedExits lists the members that ended without being stopped.
func (f *fleet) unexpectedExits() []string {
	var out []string
	for _, m := range append(append([]*member{}, f.web...), f.workers...) {
		if !m.running() && !m.stopped {
			out = append(out, fmt.Sprintf("%s exited on its own (%v):\n%s", m.name, m.err, m.tail(15)))
		}
	}
	if !f.lb.p.running() {
		out = append(out, "haproxy exited:\n"+f.lb.p.tail(15))
	}
	return out
}
