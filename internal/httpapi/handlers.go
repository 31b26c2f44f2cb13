package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/dozen-go/dozen/internal/buildinfo"
	"github.com/dozen-go/dozen/internal/web"
)

// handleVersion reports which build is running.
func handleVersion(info buildinfo.Info) http.Handler {
	body, _ := json.Marshal(info)
	return web.StaticJSON(append(body, '\n'))
}
