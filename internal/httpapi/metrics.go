package httpapi

import (
	"context"
	"net/http"
	"strconv"
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
}

// observe counts a request and records its duration, with the trace id
// of ctx as an exemplar when requests are traced.
func (m *metrics) observe(ctx context.Context, method, route string, status int, elapsed time.Duration) {
	code := strconv.Itoa(status)
	m.requests.WithLabelValues(method, route, code).Inc()
	d := m.duration.WithLabelValues(method, route, code)
	if m.traced {
		if ex := exemplar(ctx); ex != nil {
			d.(prometheus.ExemplarObserver).ObserveWithExemplar(elapsed.Seconds(), ex)
			return
		}
	}
	d.Observe(elapsed.Seconds())
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
	reg.MustRegister(m.requests, m.duration, m.inFlight)
	return m
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
