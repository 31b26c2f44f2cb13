// Package suppressed creates the schema of a throwaway demo database.
package suppressed

import (
	"context"

	"v4/suppressed/ent/migrate"
)

func Start(ctx context.Context, s *migrate.Schema) error {
	//twelvefactor:ignore V4 the demo database lives in memory and is rebuilt at every start
	return s.Create(ctx) // want `ent's Schema.Create changes the schema at every start`
}
