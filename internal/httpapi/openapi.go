package httpapi

import (
	_ "embed"
	"net/http"
)

// openAPI describes the public API in YAML, the form OpenAPI documents are
// written in. It is served as it is written, so the server needs no YAML
// library; a test fails when it and routes.go disagree.
//
//go:embed openapi.yaml
var openAPI []byte

// yamlType is the media type of YAML (RFC 9512), shared so that setting it
// allocates nothing.
var yamlType = []string{"application/yaml"}

// handleOpenAPI serves the API description.
func handleOpenAPI() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header()["Content-Type"] = yamlType
		_, _ = w.Write(openAPI)
	})
}
