package good

import "net/http"

// certManager answers ACME http-01 challenges, as autocert.Manager does.
type certManager struct{}

func (certManager) HTTPHandler(fallback http.Handler) http.Handler { return fallback }

// Challenge serves the challenges on :80, the port the protocol fixes.
func Challenge(m certManager) *http.Server {
	return &http.Server{Addr: ":80", Handler: m.HTTPHandler(nil)}
}
