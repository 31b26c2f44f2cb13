package bad

import (
	"net"
	"net/http"
)

const addr = ":8080"

func Listen() (net.Listener, error) {
	return net.Listen("tcp", addr) // want `listens on the fixed address ":8080"`
}

func Server(h http.Handler) *http.Server {
	return &http.Server{Addr: "0.0.0.0:3000", Handler: h} // want `http.Server listens on the fixed address "0.0.0.0:3000"`
}
