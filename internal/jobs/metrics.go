package jobs

import (
	"context"
	"database/sql"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Metrics are the job metrics of a worker process.
type Metrics struct {
	outcomes *prometheus.CounterVec
	run      *prometheus.HistogramVec
	wait     *prometheus.HistogramVec
}

// NewMetrics registers the job metrics on reg, including the queue depth,
// read from db at each scrape.
func NewMetrics(reg prometheus.Registerer, db *sql.DB, log *slog.Logger) *Metrics {
	m := &Metrics{
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jobs_total",
			Help: "Job runs by kind and outcome: completed, retried (failed, will run again), discarded (failed for good), cancelled.",
		}, []string{"kind", "outcome"}),
		run: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "job_run_seconds",
			Help:    "Time a job ran, by kind.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
		}, []string{"kind"}),
		wait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "job_queue_wait_seconds",
			Help:    "Time a job waited in the queue before it ran, by kind.",
			Buckets: prometheus.ExponentialBuckets(0.01, 4, 10),
		}, []string{"kind"}),
	}
	reg.MustRegister(m.outcomes, m.run, m.wait, &depth{db: db, log: log})
	return m
}

// Observe records the client's job events until ctx ends or the client
// stops.
func (m *Metrics) Observe(ctx context.Context, c *Client) {
	events, cancel := c.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled)
	defer cancel()
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-events:
			if !ok {
				return
			}
			m.record(e)
		}
	}
}

func (m *Metrics) record(e *river.Event) {
	kind := e.Job.Kind
	outcome := "completed"
	switch e.Kind {
	case river.EventKindJobFailed:
		outcome = "retried"
		if e.Job.State == rivertype.JobStateDiscarded {
			outcome = "discarded"
		}
	case river.EventKindJobCancelled:
		outcome = "cancelled"
	}
	m.outcomes.WithLabelValues(kind, outcome).Inc()
	if e.JobStats != nil {
		m.run.WithLabelValues(kind).Observe(e.JobStats.RunDuration.Seconds())
		m.wait.WithLabelValues(kind).Observe(e.JobStats.QueueWaitDuration.Seconds())
	}
}

// depth reports the jobs waiting in the queue, by state, at each scrape.
type depth struct {
	db  *sql.DB
	log *slog.Logger
}

var depthDesc = prometheus.NewDesc("jobs_queued", "Jobs waiting to run, by state.", []string{"state"}, nil)

func (d *depth) Describe(ch chan<- *prometheus.Desc) { ch <- depthDesc }

func (d *depth) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts := map[string]float64{"available": 0, "retryable": 0, "scheduled": 0, "running": 0}
	rows, err := d.db.QueryContext(ctx,
		`SELECT state, count(*) FROM river_job WHERE state IN ('available', 'retryable', 'scheduled', 'running') GROUP BY state`)
	if err != nil {
		d.log.Warn("read queue depth", "error", err.Error())
		return
	}
	defer rows.Close()
	for rows.Next() {
		var state string
		var n float64
		if err := rows.Scan(&state, &n); err == nil {
			counts[state] = n
		}
	}
	for state, n := range counts {
		ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, n, state)
	}
}
