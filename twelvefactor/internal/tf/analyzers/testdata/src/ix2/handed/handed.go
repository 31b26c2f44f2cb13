// Package handed hands its server to a library that stops it, and starts
// another that nothing stops even though it is passed around this module.
package handed

import (
	"log"
	"net"
	"net/http"
	"time"

	pb "github.com/acme/greeter/api"
	routing "github.com/go-ozzo/ozzo-routing/v2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/reflection"
)

func Serve() error {
	hs := &http.Server{}
	go routing.GracefulShutdown(hs, 10*time.Second, log.Printf)
	return hs.ListenAndServe()
}

func register(*http.Server) {}

func ServeOther() error {
	hs := &http.Server{}
	register(hs)
	return hs.ListenAndServe() // want `http.Server is started but nothing in this program calls its Shutdown`
}

// ServeGRPC registers its server with generated code and grpc's own
// helpers, none of which stops it.
func ServeGRPC(l net.Listener) error {
	srv := grpc.NewServer()
	reflection.Register(srv)
	pb.RegisterGreeterServer(srv, nil)
	return srv.Serve(l) // want `grpc.Server is started but nothing in this program calls its GracefulStop`
}
