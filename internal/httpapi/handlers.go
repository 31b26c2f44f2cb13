package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/dozen-go/dozen/internal/buildinfo"
	"github.com/dozen-go/dozen/internal/health"
)

// Bodies of the probe responses, encoded once.
var livezBody = []byte("{\"status\":\"ok\"}\n")

// handleLivez answers whether the process is alive. It checks nothing else:
// a backing service outage must not make the platform restart every pod.
func handleLivez() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(livezBody)
	})
}

// handleReadyz answers whether this process should receive traffic: 200
// when every required backing service answers, 503 when one does not or
// once shutdown has begun.
func handleReadyz(c *health.Checker) http.Handler {
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

// handleVersion reports which build is running.
func handleVersion(info buildinfo.Info) http.Handler {
	body, _ := json.Marshal(info)
	body = append(body, '\n')
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
}
