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
		r.Method(http.MethodGet, "/openapi.yaml", handleOpenAPI())
		// example: the redirect, the hot path, sets its own deadline on a
		// cache miss only.
		r.Method(http.MethodGet, "/{code}", handleRedirect(d.Log, d.Links, d.Config.RequestTimeout))
		// end of example

		// Routes that read a body or wait on a backing service go here.
		r.Group(func(r chi.Router) {
			r.Use(limits(d.Config.MaxBodyBytes, d.Config.RequestTimeout))
			linkRoutes(r, d) // example
		})
	})
}

// example: the link shortener's routes, down to "end of example".

// linkRoutes are the example domain's routes.
func linkRoutes(r chi.Router, d Deps) {
	write := chi.Chain(requireToken(d.Links.Config.APITokens))
	create := chi.Chain(d.Links.CreateLimit, requireToken(d.Links.Config.APITokens), limits(maxLinkBody, d.Config.RequestTimeout))

	r.With(create...).Method(http.MethodPost, "/v1/links", handleCreateLink(d.Log, d.Links))
	r.Method(http.MethodGet, "/v1/links", handleListLinks(d.Log, d.Links))
	r.Method(http.MethodGet, "/v1/links/{code}", handleGetLink(d.Log, d.Links))
	r.With(write...).Method(http.MethodDelete, "/v1/links/{code}", handleDeleteLink(d.Log, d.Links))
}

// end of example
