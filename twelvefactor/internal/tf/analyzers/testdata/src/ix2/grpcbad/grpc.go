package grpcbad

import (
	"net"

	"google.golang.org/grpc"
)

func ServeGRPC(l net.Listener) error {
	return grpc.NewServer().Serve(l) // want `grpc.Server is started but nothing in this program calls its GracefulStop`
}
