// Package migrations embeds the SQL migrations.
package migrations

import "embed"

// FS holds the migration files.
//
//go:embed postgres sqlite
var FS embed.FS
