package postgres

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// Collector exports the pool's statistics as Prometheus metrics, read
// when scraped. Register it on the service's own registry.
func Collector(pool *pgxpool.Pool) prometheus.Collector {
	return &collector{pool: pool}
}

type collector struct {
	pool *pgxpool.Pool
}

func desc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc("db_pool_"+name, help, nil, nil)
}

var (
	descAcquired     = desc("acquired_connections", "Connections currently in use.")
	descIdle         = desc("idle_connections", "Connections currently idle.")
	descTotal        = desc("connections", "Connections open, in use, idle or being opened.")
	descMax          = desc("max_connections", "Most connections the pool opens.")
	descAcquires     = desc("acquires_total", "Connections handed out.")
	descAcquireSecs  = desc("acquire_wait_seconds_total", "Time spent waiting for a connection.")
	descEmptyWaits   = desc("empty_acquires_total", "Acquires that had to wait because no connection was idle.")
	descCanceled     = desc("canceled_acquires_total", "Acquires given up because their context ended.")
	descNewConns     = desc("new_connections_total", "Connections opened.")
	descLifetimeDrop = desc("max_lifetime_closed_total", "Connections closed for reaching their maximum lifetime.")
	descIdleDrop     = desc("max_idle_closed_total", "Connections closed for being idle too long.")
)

// Describe sends the metrics' descriptions.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descAcquired, descIdle, descTotal, descMax, descAcquires,
		descAcquireSecs, descEmptyWaits, descCanceled, descNewConns, descLifetimeDrop, descIdleDrop} {
		ch <- d
	}
}

// Collect sends the pool's current statistics.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(descAcquired, float64(s.AcquiredConns()))
	gauge(descIdle, float64(s.IdleConns()))
	gauge(descTotal, float64(s.TotalConns()))
	gauge(descMax, float64(s.MaxConns()))
	counter(descAcquires, float64(s.AcquireCount()))
	counter(descAcquireSecs, s.AcquireDuration().Seconds())
	counter(descEmptyWaits, float64(s.EmptyAcquireCount()))
	counter(descCanceled, float64(s.CanceledAcquireCount()))
	counter(descNewConns, float64(s.NewConnsCount()))
	counter(descLifetimeDrop, float64(s.MaxLifetimeDestroyCount()))
	counter(descIdleDrop, float64(s.MaxIdleDestroyCount()))
}
