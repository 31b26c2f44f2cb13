package httpapi

import (
	_ "embed"
	"net/http"

	"github.com/dozen-go/dozen/internal/web"
)

// openAPI describes the public API, in JSON, OpenAPI's canonical form,
// which every OpenAPI tool reads. A test fails when it and routes.go
// disagree.
//
//go:embed openapi.json
var openAPI []byte

// handleOpenAPI serves the API description.
func handleOpenAPI() http.Handler { return web.StaticJSON(openAPI) }
