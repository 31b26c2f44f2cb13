package grpcbad

import (
	"net"

	"google.golang.org/grpc"
)

func ServeGRPC(l net.Listener) error {
	return grpc.NewServer().Serve(l) // want `starts a grpc.Server but never calls its GracefulStop`
}
