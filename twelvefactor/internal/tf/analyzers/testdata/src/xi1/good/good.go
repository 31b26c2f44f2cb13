package good

import (
	"log/slog"
	"os"
)

func New() *slog.Logger { return slog.New(slog.NewJSONHandler(os.Stdout, nil)) }
