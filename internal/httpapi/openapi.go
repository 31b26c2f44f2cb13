package httpapi

import (
	_ "embed"
	"net/http"
)

// openAPI describes the public API. A test fails when it and routes.go
// disagree.
//
//go:embed openapi.yaml
var openAPI []byte

// handleOpenAPI serves the API description.
func handleOpenAPI() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(openAPI)
	})
}
