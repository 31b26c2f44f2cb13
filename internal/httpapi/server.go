// Package httpapi is the service's HTTP interface: the routes every
// service has (routes.go), the middleware around them, and the server.
// Handlers are built from package web's building blocks. A feature is a
// package of its own whose routes the server mounts (Feature); this
// package never imports one.
package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/dozen-go/dozen/internal/buildinfo"
	"github.com/dozen-go/dozen/internal/config"
	"github.com/dozen-go/dozen/internal/health"
	"github.com/dozen-go/dozen/internal/jobs"
	"github.com/dozen-go/dozen/internal/kind"
	"github.com/dozen-go/dozen/internal/store"
	"github.com/dozen-go/dozen/internal/web"
)

// Deps is what the HTTP interface needs from the rest of the service.
type Deps struct {
	Config config.HTTP
	Log    *slog.Logger
	// Metrics receives the HTTP metrics. Give each server its own registry:
	// registering twice in one registry panics.
	Metrics prometheus.Registerer
	Health  *health.Checker
	Build   buildinfo.Info
	// Tracer traces each request; nil when tracing is off.
	Tracer trace.TracerProvider
	// Store is the service's database, for the handlers of its routes.
	Store *store.Store
	// Jobs enqueues background jobs, each in the transaction of the write
	// it belongs to (InsertTx); the worker process runs them.
	Jobs *jobs.Client
	// Features are the service's own packages of routes, mounted behind
	// the load shedder after routes.go's.
	Features []Feature
}

// A Feature is a package of the service's own that serves routes, such
// as a resource with its handlers, queries and jobs.
type Feature interface {
	// Mount adds the feature's routes to r. A route that reads a body or
	// waits on a backing service sets its limits with Limits.
	Mount(r chi.Router)
}

// NewServer returns the public HTTP handler with every route of routes.go
// behind the middleware stack.
func NewServer(d Deps) http.Handler {
	r := newRouter(d)
	routes(r, d)
	return r
}

// newRouter returns a router with the middleware stack every request goes
// through, outermost first. The recoverer sits inside the access log and
// the metrics so that a panic's 500 is logged and counted like any other.
func newRouter(d Deps) *chi.Mux {
	r := chi.NewRouter()
	r.Use(requestValues(d.Config.TrustedProxies))
	if d.Tracer != nil {
		// Outside the access log and the metrics, which take the trace
		// id from the span it starts.
		r.Use(traced(d.Tracer))
	}
	r.Use(observe(d.Log, newMetrics(d.Metrics, d.Tracer != nil)))
	r.Use(recoverer(d.Log))
	r.Use(securityHeaders)
	r.NotFound(notFound)
	r.MethodNotAllowed(methodNotAllowed)
	return r
}

// errNoSuchResource answers a path that matches no route.
var errNoSuchResource = kind.New(kind.NotFound, "no such resource")

// notFound answers a path that matches no route.
func notFound(w http.ResponseWriter, r *http.Request) {
	web.Problem(w, r, errNoSuchResource)
}
