package httpapi

import (
	"context"
	"maps"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the RED metrics of the HTTP server.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge
	// traced says whether requests are traced, so that durations carry
	// the trace id as an exemplar.
	traced bool

	// series holds the children of requests and duration for each
	// method, route and status seen so far, so that a request looks its
	// series up in a map instead of hashing its labels in the vectors.
	// The map is replaced, never changed, so reads take no lock; there
	// are as many entries as series, which the labels bound.
	series atomic.Pointer[map[seriesKey]*routeSeries]
	mu     sync.Mutex // serialises replacing series
}

type seriesKey struct {
	method, route string
	status        int
}

// routeSeries are the metrics of one method, route and status.
type routeSeries struct {
	requests  prometheus.Counter
	duration  prometheus.Observer
	exemplars bool
}

// observe counts a request and records its duration, with the trace id
// of ctx as an exemplar when requests are traced.
func (s *routeSeries) observe(ctx context.Context, elapsed time.Duration) {
	s.requests.Inc()
	if s.exemplars {
		if ex := exemplar(ctx); ex != nil {
			s.duration.(prometheus.ExemplarObserver).ObserveWithExemplar(elapsed.Seconds(), ex)
			return
		}
	}
	s.duration.Observe(elapsed.Seconds())
}

func newMetrics(reg prometheus.Registerer, traced bool) *metrics {
	labels := []string{"method", "route", "status"}
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total",
			Help: "HTTP requests served, by method, chi route pattern and status (499: the client went away first).",
		}, labels),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "http_request_duration_seconds",
			Help:    "Time to serve HTTP requests, by method, chi route pattern and status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, labels),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "http_requests_in_flight",
			Help: "HTTP requests being served.",
		}),
		traced: traced,
	}
	m.series.Store(&map[seriesKey]*routeSeries{})
	reg.MustRegister(m.requests, m.duration, m.inFlight)
	return m
}

// route returns the series of a method, route pattern and status.
func (m *metrics) route(method, route string, status int) *routeSeries {
	k := seriesKey{method, route, status}
	if s, ok := (*m.series.Load())[k]; ok {
		return s
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	all := *m.series.Load()
	if s, ok := all[k]; ok {
		return s
	}
	code := strconv.Itoa(status)
	s := &routeSeries{
		requests:  m.requests.WithLabelValues(method, route, code),
		duration:  m.duration.WithLabelValues(method, route, code),
		exemplars: m.traced,
	}
	all = maps.Clone(all)
	all[k] = s
	m.series.Store(&all)
	return s
}

// metricMethod bounds the method label: anything outside the standard
// methods is counted as OTHER, so invented methods add no series.
func metricMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}
