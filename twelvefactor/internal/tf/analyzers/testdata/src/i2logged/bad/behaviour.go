package bad

import (
	"fmt"
	"log"
	"net/http"

	"github.com/gin-gonic/gin"
	zlog "github.com/rs/zerolog/log"
)

type Env struct{ AppEnv string }

// A branch that sets a mode, writes a response or stops the program
// changes behaviour, even beside log lines.
func Setup(env Env, w http.ResponseWriter) {
	switch env.AppEnv {
	case "production": // want `the code branches on env.AppEnv == "production"`
		log.Println("release mode")
		gin.SetMode(gin.ReleaseMode)
	case "development": // want `the code branches on env.AppEnv == "development"`
		log.Println("debug mode")
	}
	if env.AppEnv == "dev" { // want `the code branches on env.AppEnv == "dev"`
		log.Fatal("refusing to start")
	}
	if env.AppEnv == "staging" { // want `the code branches on env.AppEnv == "staging"`
		zlog.Fatal().Str("env", env.AppEnv).Msg("staging")
	}
	if env.AppEnv == "qa" { // want `the code branches on env.AppEnv == "qa"`
		fmt.Fprintln(w, "qa")
	}
	if env.AppEnv == "prod" { // want `the code branches on env.AppEnv == "prod"`
		log.Println("prod")
	} else {
		gin.SetMode(gin.DebugMode)
	}
}
