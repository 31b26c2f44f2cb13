package httpapi

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/dozen-go/dozen/internal/health"
	"github.com/dozen-go/dozen/internal/kind"
	"github.com/dozen-go/dozen/internal/web"
)

// routes lists the routes every service has, and mounts the service's
// features (Deps.Features), each a package of its own. A feature's route
// that reads a body or waits on a backing service goes behind Limits with
// the default body limit and deadline (Deps.Config), or with smaller
// limits of its own, never both, so that a 413 names the limit that
// applied.
func routes(r chi.Router, d Deps) {
	// Probes bypass load shedding: an overloaded process is still alive,
	// and restarting it would only make the overload worse.
	Get(r, "/livez", health.LiveHandler())
	Get(r, "/readyz", d.Health.ReadyHandler())

	r.Group(func(r chi.Router) {
		r.Use(shed(d.Config.MaxInFlight))
		Get(r, "/version", handleVersion(d.Build))
		Get(r, "/openapi.yaml", handleOpenAPI())
		for _, f := range d.Features {
			f.Mount(r)
		}
	})
}

// Get routes GET and HEAD on pattern to h: net/http drops the body of a
// response to HEAD, so one handler serves both (RFC 9110 §9.3.2).
func Get(r chi.Router, pattern string, h http.Handler) {
	r.Method(http.MethodGet, pattern, h)
	r.Method(http.MethodHead, pattern, h)
}

// methods are the methods the Allow header of a 405 may list.
var methods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// methodNotAllowed answers a method the resource does not serve, with the
// Allow header that RFC 9110 §15.5.6 requires: the methods the router has
// for the path.
func methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	if rctx := chi.RouteContext(r.Context()); rctx != nil && rctx.Routes != nil {
		path := r.URL.RawPath // as chi routes it
		if path == "" {
			path = r.URL.Path
		}
		var allowed []string
		for _, m := range methods {
			if rctx.Routes.Match(chi.NewRouteContext(), m, path) {
				allowed = append(allowed, m)
			}
		}
		w.Header().Set("Allow", strings.Join(allowed, ", "))
	}
	web.Problem(w, r, errMethodNotAllowed)
}

// errMethodNotAllowed answers a method the resource does not serve; the
// table gives its detail.
var errMethodNotAllowed = kind.New(kind.NotAllowed, "")
