package migrations

import "embed"

// FS holds the migrations.
//
//go:embed *.sql
var FS embed.FS
