package bad

import "net/http"

func Serve(h http.Handler) error {
	return http.ListenAndServe("", h) // want `http.ListenAndServe cannot be shut down gracefully`
}

func Server(srv *http.Server) error {
	return srv.ListenAndServe() // want `http.Server is started but nothing in this program calls its Shutdown`
}
