package main

import (
	"log"
	"net/http"
)

func main() {
	srv := &http.Server{}
	log.Print(srv.ListenAndServe()) // want `this program serves requests but nothing in it imports os/signal`
	srv.Shutdown(nil)
}
