// Command server is the sample's web process.
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/signal"

	"example.com/sample/internal/config"
	"example.com/sample/internal/store"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cfg := config.Load()
	if os.Getenv("APP_ENV") == "production" {
		store.Warm()
	}
	srv := &http.Server{Addr: ":" + cfg.Port}
	go func() {
		<-ctx.Done()
		srv.Shutdown(context.Background())
	}()
	return srv.ListenAndServe()
}
