// Package http2 is a stub of golang.org/x/net/http2 for the analyzer tests.
package http2

import "net"

type Server struct{}

type ServeConnOpts struct{}

func (s *Server) ServeConn(c net.Conn, opts *ServeConnOpts) {}
