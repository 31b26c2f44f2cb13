// Command stops shuts its server down before it exits.
package main

import (
	"context"
	"net/http"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	c := make(chan os.Signal, 1)
	signal.Notify(c, os.Interrupt, syscall.SIGTERM)
	srv := &http.Server{}
	go func() {
		<-c
		srv.Shutdown(context.Background())
		os.Exit(0)
	}()
	srv.ListenAndServe()
}
