package fleet

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The load: a rate two loaded cores sustain beside eight processes of the
// app, HAProxy, Postgres and Redis.
const (
	rate    = 120
	minLoad = 75 * time.Second
)

// TestFleet runs three web replicas behind HAProxy and two workers under
// a steady load through, in order: a rolling restart of the replicas, a
// release (an expand migration by admin migrate up while generation 1
// serves, then a rollout of generation 2), a rolling restart of the
// workers, a Postgres restart and a Redis crash. failures lists what
// must hold; the table and the plot show the run.
func TestFleet(t *testing.T) {
	if testing.Short() {
		t.Skip("the fleet run takes minutes; run without -short")
	}
	tl := findTools(t)
	gens := generations(t, true)
	gen1, gen2 := gens[0], gens[1]
	f := newFleet(t, tl, gen1, 3, 2)

	plan := func(r *runResult, l *loader) []step {
		return []step{
			{"warm-up, rate-limit probe", func() error {
				start := time.Now()
				b := l.budget()
				r.budget = &b
				if rest := 6*time.Second - time.Since(start); rest > 0 {
					time.Sleep(rest)
				}
				return nil
			}},
			{"rolling restart (web)", func() error { return f.rollWeb(gen1) }},
			{"release: migrate up", func() error {
				if err := f.migrate(gen2); err != nil {
					return err
				}
				time.Sleep(3 * time.Second) // generation 1 serving on the new schema
				return nil
			}},
			{"release: roll out gen2", func() error { return f.rollWeb(gen2) }},
			{"rolling restart (workers)", func() error {
				if err := f.rollWorkers(gen2); err != nil {
					return err
				}
				// A worker answers /readyz before its job client has
				// started, and a start that Postgres cuts short ends the
				// process: the restart waits until the new workers run.
				time.Sleep(2 * time.Second)
				return nil
			}},
			{"postgres restart", func() error {
				r.pgOutage.start = time.Now()
				if err := f.pg.stop(); err != nil {
					return err
				}
				time.Sleep(2 * time.Second)
				if err := f.pg.start(); err != nil {
					return err
				}
				r.pgOutage.end = time.Now()
				time.Sleep(pgBound + 2*time.Second)
				return nil
			}},
			{"redis crash and restart", func() error {
				r.redisOutage.start = time.Now()
				f.redis.kill()
				time.Sleep(2 * time.Second)
				if err := f.redis.start(); err != nil {
					return err
				}
				r.redisOutage.end = time.Now()
				time.Sleep(redisBound + time.Second)
				return nil
			}},
			{"cool-down", func() error { time.Sleep(5 * time.Second); return nil }},
		}
	}
	r := runFleet(t, f, "rolling restarts, release, failover", rate, minLoad, plan)
	report(t, r, os.Getenv("FLEET_REPORT_DIR"))
	if fails := r.failures(); len(fails) > 0 {
		t.Errorf("the fleet broke %d guarantees:\n%s", len(fails), strings.Join(fails, "\n"))
		f.dumpLogs(t)
	}
}

// TestFleetSabotage runs a short fleet whose replicas are stopped with
// SIGKILL where the rollout sends SIGTERM: they exit without dropping
// readiness or draining, as a process that ignores the stop protocol
// would. The same checks as TestFleet's must report it.
func TestFleetSabotage(t *testing.T) {
	if testing.Short() {
		t.Skip("the fleet run takes minutes; run without -short")
	}
	tl := findTools(t)
	gen1 := generations(t, false)[0]
	f := newFleet(t, tl, gen1, 3, 1)
	plan := func(*runResult, *loader) []step {
		return []step{
			{"warm-up", func() error { time.Sleep(4 * time.Second); return nil }},
			{"rolling restart (web), SIGKILL", func() error {
				f.stopSignal = syscall.SIGKILL
				defer func() { f.stopSignal = syscall.SIGTERM }()
				return f.rollWeb(gen1)
			}},
			{"cool-down", func() error { time.Sleep(3 * time.Second); return nil }},
		}
	}
	r := runFleet(t, f, "sabotage: replicas SIGKILLed in the rollout", rate, 0, plan)
	var table bytes.Buffer
	r.writeTable(&table)
	fails := r.failures()
	t.Logf("%s\nfailures reported:\n%s", table.String(), strings.Join(fails, "\n"))
	var exits, routed int
	for _, s := range fails {
		if strings.Contains(s, "want exit 0 after a drain") {
			exits++
		}
		if strings.Contains(s, "while HAProxy still routed to it") {
			routed++
		}
	}
	if exits != 3 || routed != 3 {
		t.Errorf("failures() reported %d bad exits and %d exits while routed, want 3 and 3 (one per SIGKILLed replica)", exits, routed)
	}
}

// report prints the run's table and, when dir is set, writes the table
// to dir/fleet.txt and the plot to dir/fleet.png.
func report(t *testing.T, r *runResult, dir string) {
	t.Helper()
	var b bytes.Buffer
	r.writeTable(&b)
	fmt.Print(b.String())
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.WriteFile(filepath.Join(dir, "fleet.txt"), b.Bytes(), 0o644); err != nil {
		t.Error(err)
	}
	if err := r.writePlot(filepath.Join(dir, "fleet.png")); err != nil {
		t.Errorf("plot: %v", err)
	}
}

// dumpLogs shows the end of each process's log, for a failed run.
func (f *fleet) dumpLogs(t *testing.T) {
	t.Helper()
	logs, _ := filepath.Glob(filepath.Join(f.dir, "*.log"))
	for _, path := range logs {
		b, _ := os.ReadFile(path)
		lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
		var keep []string
		for _, line := range lines {
			if strings.Contains(line, `"level":"ERROR"`) || strings.Contains(line, `"level":"WARN"`) {
				keep = append(keep, line)
			}
		}
		if len(keep) > 20 {
			keep = keep[len(keep)-20:]
		}
		if len(keep) > 0 {
			t.Logf("%s (warnings and errors, last 20):\n%s", filepath.Base(path), strings.Join(keep, "\n"))
		}
	}
}
