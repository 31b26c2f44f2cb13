// Command hatch closes its database on the first signal and exits,
// leaving the server's requests to be cut; a second signal exits at once.
package main

import (
	"database/sql"
	"net/http"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	var db *sql.DB
	srv := &http.Server{}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sigs
		go func() {
			<-sigs
			os.Exit(1) // want `after the stop signal this handler exits the process without shutting the servers down`
		}()
		db.Close()
		os.Exit(0) // want `after the stop signal this handler exits the process without shutting the servers down`
	}()
	srv.ListenAndServe() // want `http.Server is started but nothing in this program calls its Shutdown`
}
