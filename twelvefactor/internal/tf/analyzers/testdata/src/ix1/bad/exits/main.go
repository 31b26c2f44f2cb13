// Command exits handles SIGTERM by closing the database and exiting, which
// leaves the server's requests to be cut.
package main

import (
	"context"
	"database/sql"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	var db *sql.DB
	c := make(chan os.Signal, 1)
	signal.Notify(c, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-c
		log.Println("stopping")
		db.Close()
		os.Exit(0) // want `after the stop signal this handler exits the process without shutting the servers down`
	}()
	srv := &http.Server{Addr: os.Getenv("ADDR")} // want `os.Getenv reads the environment`
	go srv.ListenAndServe()
	select {
	case <-c:
		srv.Shutdown(context.Background())
	}
}
