// Command demo is an example program: nothing in it is reported.
package main

import (
	"context"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	_ = ctx
	if os.Getenv("APP_ENV") == "production" {
		return
	}
	//twelvefactor:ignore I2,III1 the fixture checks that a suppression with a reason holds
	if os.Getenv("APP_ENV") == "staging" {
		return
	}
	//twelvefactor:ignore I2
	if os.Getenv("APP_ENV") == "qa" {
		return
	}
}
