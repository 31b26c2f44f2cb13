package httpapi

import (
	"testing"

	"github.com/dozen-go/dozen/internal/httpapi/apitest"
)

// TestOpenAPIMatchesRoutes fails when a route is missing from the spec or
// the spec describes a route of this package's (tagged probes or meta)
// that does not exist. A feature's test checks its own routes the same
// way, with the feature mounted.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	d, _, _ := testDeps(t)
	apitest.Routes(t, NewServer(d), "probes", "meta")
}

// TestOpenAPISchemas fails when a documented body and its Go type disagree.
func TestOpenAPISchemas(t *testing.T) {
	d, _, _ := testDeps(t)
	apitest.Schemas(t, NewServer(d), map[string]any{"Problem": apitest.Problem{}})
}
