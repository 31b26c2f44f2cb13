package grpcgood

import (
	"context"
	"net"

	"google.golang.org/grpc"
)

func Serve(ctx context.Context, l net.Listener) error {
	s := grpc.NewServer()
	go func() {
		<-ctx.Done()
		s.GracefulStop()
	}()
	return s.Serve(l)
}
