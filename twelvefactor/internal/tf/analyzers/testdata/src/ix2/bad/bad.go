package bad

import "net/http"

func Serve(h http.Handler) error {
	return http.ListenAndServe("", h) // want `http.ListenAndServe cannot be shut down gracefully`
}

func Server(srv *http.Server) error {
	return srv.ListenAndServe() // want `starts an http.Server but never calls its Shutdown`
}
