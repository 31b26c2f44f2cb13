// Package rotating always writes its logs to a rotated file; an error
// check before it is not a setting.
package rotating

import (
	"errors"
	"log"

	"gopkg.in/natefinch/lumberjack.v2" // want `imports gopkg.in/natefinch/lumberjack.v2 \(log file rotation\); logs belong on stdout`
)

func Setup(dir string) error {
	if dir == "/" {
		return errors.New("no logs at the root")
	}
	log.SetOutput(&lumberjack.Logger{Filename: dir + "/app.log"})
	return nil
}
