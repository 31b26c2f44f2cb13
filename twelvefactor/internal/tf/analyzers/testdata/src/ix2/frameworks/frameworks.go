// Package frameworks starts servers of web frameworks that nothing stops.
package frameworks

import (
	"net"

	"github.com/gin-gonic/gin"
	"github.com/gofiber/fiber/v2"
	"github.com/labstack/echo/v4"
	"golang.org/x/net/http2"
)

func Gin() error { return gin.Default().Run(":8080") } // want `gin.Run cannot be shut down gracefully`

func Echo() error { return echo.New().Start(":8080") } // want `echo.Echo is started but nothing in this program calls its Shutdown`

func Fiber() error { return fiber.New().Listen(":8080") } // want `fiber.App is started but nothing in this program calls its Shutdown`

func H2(c net.Conn) { (&http2.Server{}).ServeConn(c, nil) } // want `http2.Server serves connections that no Shutdown in this program drains`
