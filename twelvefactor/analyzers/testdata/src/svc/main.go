// Command svc is a fixture: diagnostics carry their rule's ID, and a
// suppression with a reason silences them.
package main

import (
	"context"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt) // want `^IX1: signal.NotifyContext asks for SIGINT but not SIGTERM`
	defer stop()
	_ = ctx
	if os.Getenv("APP_ENV") == "production" { // want `^I2: ` `^III1: `
		return
	}
	//twelvefactor:ignore I2,III1 the fixture checks that a suppression with a reason holds
	if os.Getenv("APP_ENV") == "staging" {
		return
	}
	//twelvefactor:ignore I2
	if os.Getenv("APP_ENV") == "qa" { // want `^I2: ` `^III1: `
		return
	}
}
