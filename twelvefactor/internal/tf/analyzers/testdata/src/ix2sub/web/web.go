// Package web serves with http.Serve and is no command: still reported.
package web

import (
	"net"
	"net/http"
)

func Serve(l net.Listener) error { return http.Serve(l, nil) } // want `http.Serve cannot be shut down gracefully`
