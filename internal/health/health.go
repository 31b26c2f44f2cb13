// Package health answers whether the process is ready to take traffic:
// every required backing service answers, and shutdown has not begun.
package health

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Check is one backing service's health check.
type Check struct {
	// Name identifies the service in reports and logs, e.g. "postgres".
	Name string
	// Required checks fail readiness when they fail. An optional service
	// (one with an in-process fallback) is reported but never fails it.
	Required bool
	// Probe returns nil when the service answers. It must honour ctx.
	Probe func(ctx context.Context) error
}

// Result is the outcome of one check, as shown to probes. It says whether
// the service answered, never why not: the reason goes to the log.
type Result struct {
	Name     string `json:"name"`
	Required bool   `json:"required"`
	OK       bool   `json:"ok"`
}

// Report is the outcome of a readiness check.
type Report struct {
	Ready        bool     `json:"ready"`
	ShuttingDown bool     `json:"shutting_down,omitempty"`
	Checks       []Result `json:"checks"`
}

// Checker runs the checks, bounded by a timeout, and reuses an answer for
// a short while so that frequent probes cannot overload the services.
type Checker struct {
	log     *slog.Logger
	checks  []Check
	timeout time.Duration
	ttl     time.Duration

	stopping atomic.Bool

	mu     sync.Mutex // held while checking, so concurrent probes share one run
	last   Report
	lastAt time.Time
}

// NewChecker returns a Checker that runs checks within timeout and caches
// the report for ttl.
func NewChecker(log *slog.Logger, timeout, ttl time.Duration, checks ...Check) *Checker {
	return &Checker{log: log, checks: checks, timeout: timeout, ttl: ttl}
}

// Shutdown marks the process as shutting down: from now on every report
// is not ready, whatever the services say.
func (c *Checker) Shutdown() { c.stopping.Store(true) }

// Check returns the current report, running the checks if the cached one
// is older than the TTL.
func (c *Checker) Check(ctx context.Context) Report {
	if c.stopping.Load() {
		return Report{ShuttingDown: true, Checks: []Result{}}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.lastAt.IsZero() && time.Since(c.lastAt) < c.ttl {
		return c.last
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
	defer cancel()

	results := make([]Result, len(c.checks))
	errs := make([]error, len(c.checks))
	var wg sync.WaitGroup
	for i, ch := range c.checks {
		wg.Go(func() { errs[i] = ch.Probe(ctx) })
	}
	wg.Wait()

	report := Report{Ready: true, Checks: results}
	for i, ch := range c.checks {
		results[i] = Result{Name: ch.Name, Required: ch.Required, OK: errs[i] == nil}
		if errs[i] != nil && ch.Required {
			report.Ready = false
		}
		c.logChange(ctx, ch, errs[i])
	}
	c.last, c.lastAt = report, time.Now()
	return report
}

// logChange logs a check's result when it differs from the last one, so
// an outage is one line, not one per probe.
func (c *Checker) logChange(ctx context.Context, ch Check, err error) {
	wasOK := true
	for _, r := range c.last.Checks {
		if r.Name == ch.Name {
			wasOK = r.OK
		}
	}
	switch {
	case err != nil && wasOK:
		if errors.Is(err, context.DeadlineExceeded) {
			err = errors.New("no answer within the readiness timeout")
		}
		c.log.LogAttrs(ctx, slog.LevelWarn, "backing service down", slog.String("service", ch.Name),
			slog.Bool("required", ch.Required), slog.String("error", err.Error()))
	case err == nil && !wasOK:
		c.log.LogAttrs(ctx, slog.LevelInfo, "backing service up", slog.String("service", ch.Name))
	}
}

var (
	readyDesc = prometheus.NewDesc("ready",
		"1 when the process would answer /readyz with 200: every required backing service answers and no shutdown has begun.", nil, nil)
	serviceUpDesc = prometheus.NewDesc("backing_service_up",
		"1 when the backing service answered its last readiness check; required says whether it fails readiness.",
		[]string{"service", "required"}, nil)
)

// Describe implements prometheus.Collector: a Checker exports readiness
// as metrics, so that an alert can fire on a process that stays unready.
func (c *Checker) Describe(ch chan<- *prometheus.Desc) {
	ch <- readyDesc
	ch <- serviceUpDesc
}

// Collect implements prometheus.Collector. It reads the same cached,
// bounded report /readyz answers with.
func (c *Checker) Collect(ch chan<- prometheus.Metric) {
	r := c.Check(context.Background())
	ch <- prometheus.MustNewConstMetric(readyDesc, prometheus.GaugeValue, boolValue(r.Ready))
	for _, res := range r.Checks {
		ch <- prometheus.MustNewConstMetric(serviceUpDesc, prometheus.GaugeValue, boolValue(res.OK),
			res.Name, strconv.FormatBool(res.Required))
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
