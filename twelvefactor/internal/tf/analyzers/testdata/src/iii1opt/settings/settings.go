package settings

import "os"

func Port() string { return os.Getenv("PORT") }
