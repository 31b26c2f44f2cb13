// Package echogood stops its echo server when the context ends.
package echogood

import (
	"context"

	"github.com/labstack/echo/v4"
)

func Serve(ctx context.Context) error {
	e := echo.New()
	go func() {
		<-ctx.Done()
		e.Shutdown(context.Background())
	}()
	return e.Start(":8080")
}
