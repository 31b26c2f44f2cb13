package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/dozen-go/dozen/internal/buildinfo"
)

// handleVersion reports which build is running.
func handleVersion(info buildinfo.Info) http.Handler {
	body, _ := json.Marshal(info)
	body = append(body, '\n')
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
}
