package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/dozen-go/dozen/internal/buildinfo"
)

// jsonType is the Content-Type header value of a JSON response; shared,
// so never modified.
var jsonType = []string{"application/json"}

// handleVersion reports which build is running.
func handleVersion(info buildinfo.Info) http.Handler {
	body, _ := json.Marshal(info)
	body = append(body, '\n')
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = jsonType // Set would allocate the slice
		_, _ = w.Write(body)
	})
}
