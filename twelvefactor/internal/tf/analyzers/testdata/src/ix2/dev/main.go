// Command dev serves its handler and, when asked, a local development
// server of the same handler.
package main

import (
	"flag"
	"log"
	"net/http"
	"os"
)

type config struct{ DevMode bool }

func main() {
	dev := flag.String("dev", "", "serve a development server on this address")
	flag.Parse()
	var cfg config
	h := http.NewServeMux()
	if *dev != "" {
		log.Fatal(http.ListenAndServe(*dev, h)) // want `http.ListenAndServe cannot be shut down gracefully \(info: a development setting starts this listener`
	}
	if cfg.DevMode {
		srv := &http.Server{Addr: *dev, Handler: h}
		go srv.ListenAndServe() // want `http.Server is started but nothing in this program calls its Shutdown \(info: a development setting`
	}
	log.Fatal(http.ListenAndServe(":"+os.Getenv("PORT"), h)) // want `http.ListenAndServe cannot be shut down gracefully$` `os.Getenv reads the environment`
}
