package health

import (
	"encoding/json"
	"net/http"

	"github.com/dozen-go/dozen/internal/kind"
	"github.com/dozen-go/dozen/internal/web"
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
// with the Report when every required backing service answers; when one
// does not, or once shutdown has begun, the Report with the status the
// error table gives kind.Unavailable (503).
func (c *Checker) ReadyHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		report := c.Check(r.Context())
		status := http.StatusOK
		if !report.Ready {
			status, _ = web.Status(kind.Unavailable)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(report)
	})
}
