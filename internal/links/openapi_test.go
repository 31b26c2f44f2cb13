package links

import (
	"testing"

	"github.com/dozen-go/dozen/internal/httpapi/apitest"
)

// TestOpenAPIMatchesRoutes fails when a route of the whole server, the
// link shortener's mounted, is missing from the document it serves, or the
// document describes a route that does not exist.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	d, _, _ := testDeps(t)
	apitest.Routes(t, newServer(d))
}

// TestOpenAPISchemas fails when a documented body and its Go type disagree.
func TestOpenAPISchemas(t *testing.T) {
	d, _, _ := testDeps(t)
	apitest.Schemas(t, newServer(d), map[string]any{"CreateLink": createLinkRequest{}, "Link": Link{}, "LinkPage": linkPage{}})
}
