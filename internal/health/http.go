package health

import (
	"encoding/json"
	"net/http"
)

// livezBody is the liveness probe's answer, encoded once.
var livezBody = []byte("{\"status\":\"ok\"}\n")

// LiveHandler answers whether the process is alive. It checks nothing
// else: a backing service outage must not make the platform restart every
// pod.
func LiveHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(livezBody)
	})
}

// ReadyHandler answers whether this process should receive traffic: 200
// with the Report when every required backing service answers, 503 when
// one does not or once shutdown has begun.
func (c *Checker) ReadyHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		report := c.Check(r.Context())
		status := http.StatusOK
		if !report.Ready {
			status = http.StatusServiceUnavailable
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(report)
	})
}
