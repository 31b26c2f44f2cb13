// Package cmds is a command's user interface: printing is its job.
package cmds

import (
	"fmt"

	"github.com/spf13/cobra"
)

var Root = &cobra.Command{Use: "tool"}

func Version() { fmt.Println("tool 1.0") }
