// Package api stands for generated gRPC code of another module.
package api

import "google.golang.org/grpc"

type GreeterServer interface{}

func RegisterGreeterServer(s *grpc.Server, srv GreeterServer) {}
