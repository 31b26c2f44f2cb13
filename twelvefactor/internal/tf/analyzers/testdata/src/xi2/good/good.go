package good

import (
	"fmt"
	"io"
	"log/slog"
)

// Report writes to the writer it is given, as a CLI's run does.
func Report(w io.Writer, n int) { fmt.Fprintf(w, "%d findings\n", n) }

func Handle(log *slog.Logger, id string) { log.Info("handling", "id", id) }
