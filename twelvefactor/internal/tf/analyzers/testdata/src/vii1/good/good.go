package good

import (
	"net"
	"net/http"
)

func Listen(port string) (net.Listener, error) { return net.Listen("tcp", net.JoinHostPort("", port)) }

// Any lets the kernel choose, as tests do.
func Any() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }

func Server(addr string, h http.Handler) *http.Server { return &http.Server{Addr: addr, Handler: h} }
