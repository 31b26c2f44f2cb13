package httpapi

import (
	"net/http"

	"github.com/go-chi/chi/v5"
)

// routes lists the whole public API. A new endpoint is one line here and a
// handler function returning http.Handler.
func routes(r chi.Router, d Deps) {
	// Probes bypass load shedding: an overloaded process is still alive,
	// and restarting it would only make the overload worse.
	r.Method(http.MethodGet, "/livez", handleLivez())
	r.Method(http.MethodGet, "/readyz", handleReadyz(d.Health))

	r.Group(func(r chi.Router) {
		r.Use(shed(d.Config.MaxInFlight))
		r.Method(http.MethodGet, "/version", handleVersion(d.Build))

		// Routes that read a body or wait on a backing service go here.
		r.Group(func(r chi.Router) {
			r.Use(limits(d.Config.MaxBodyBytes, d.Config.RequestTimeout))
		})
	})
}
