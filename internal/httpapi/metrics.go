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
	// exemplars says whether requests are traced, so that durations
	// carry the trace id as an exemplar.
	exemplars bool
}

func newMetrics(reg prometheus.Registerer, exemplars bool) *metrics {
	labels := []string{"method", "route", "status"}
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total",
			Help: "HTTP requests served, by method, chi route pattern and status.",
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
		exemplars: exemplars,
	}
	reg.MustRegister(m.requests, m.duration, m.inFlight)
	return m
}

func (m *metrics) observe(ctx context.Context, method, route string, status int, elapsed time.Duration) {
	code := statusText(status)
	m.requests.WithLabelValues(method, route, code).Inc()
	d := m.duration.WithLabelValues(method, route, code)
	if m.exemplars {
		if ex := exemplar(ctx); ex != nil {
			d.(prometheus.ExemplarObserver).ObserveWithExemplar(elapsed.Seconds(), ex)
			return
		}
	}
	d.Observe(elapsed.Seconds())
}

// statusText formats a status code without allocating for common codes.
func statusText(status int) string {
	if status >= 100 && status < 600 {
		return statusCodes[status-100]
	}
	return strconv.Itoa(status)
}

var statusCodes = func() (codes [500]string) {
	for i := range codes {
		codes[i] = strconv.Itoa(i + 100)
	}
	return codes
}()

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
