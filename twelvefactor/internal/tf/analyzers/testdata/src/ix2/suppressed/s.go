package suppressed

import "net/http"

func Pprof() error {
	//twelvefactor:ignore IX2 the pprof listener holds no requests worth draining
	return http.ListenAndServe("localhost:6060", nil) // want `http.ListenAndServe cannot be shut down gracefully` `listens on the fixed address`
}
