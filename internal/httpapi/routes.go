package httpapi

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/dozen-go/dozen/internal/health"
	"github.com/dozen-go/dozen/internal/kind"
	"github.com/dozen-go/dozen/internal/web"
)

// routes lists the whole public API. A new endpoint is one line here and a
// handler function returning http.Handler, in a package of its feature's
// own or in this one.
func routes(r chi.Router, d Deps) {
	// Probes bypass load shedding: an overloaded process is still alive,
	// and restarting it would only make the overload worse.
	get(r, "/livez", health.LiveHandler())
	get(r, "/readyz", d.Health.ReadyHandler())

	r.Group(func(r chi.Router) {
		r.Use(shed(d.Config.MaxInFlight))
		get(r, "/version", handleVersion(d.Build))
		get(r, "/openapi.yaml", handleOpenAPI())
		// example: the redirect, the hot path, sets its own deadline on a
		// cache miss only; a create request has a smaller body limit.
		get(r, "/{code}", handleRedirect(d.Log, d.Links, d.Config.RequestTimeout))
		// Only authenticated creates spend their address's budget: a
		// request refused with 401 costs the service no write.
		r.With(requireToken(d.Log, d.Links.Config.APITokens), d.Links.CreateLimit, limits(maxLinkBody, d.Config.RequestTimeout)).
			Method(http.MethodPost, "/v1/links", handleCreateLink(d.Log, d.Links, d.Config.RequestTimeout))
		// end of example

		// Routes that read a body or wait on a backing service go in this
		// group, which gives each request the default body limit and
		// deadline. A route that needs a smaller limit goes above it, with
		// limits of its own, never both, so that a 413 names the limit
		// that applied.
		r.Group(func(r chi.Router) {
			r.Use(limits(d.Config.MaxBodyBytes, d.Config.RequestTimeout))
			linkRoutes(r, d) // example
		})
	})
}

// get routes GET and HEAD on pattern to h: net/http drops the body of a
// response to HEAD, so one handler serves both (RFC 9110 §9.3.2).
func get(r chi.Router, pattern string, h http.Handler) {
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

// example: the link shortener's routes, down to "end of example".

// linkRoutes are the example domain's routes with the default limits.
func linkRoutes(r chi.Router, d Deps) {
	get(r, "/v1/links", handleListLinks(d.Log, d.Links))
	get(r, "/v1/links/{code}", handleGetLink(d.Log, d.Links))
	r.With(requireToken(d.Log, d.Links.Config.APITokens)).Method(http.MethodDelete, "/v1/links/{code}", handleDeleteLink(d.Log, d.Links))
}

// end of example
