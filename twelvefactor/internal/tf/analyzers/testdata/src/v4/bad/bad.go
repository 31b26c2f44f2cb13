// Package bad creates the schema whenever the service starts.
package bad

import (
	"context"

	"v4/bad/ent/migrate"
)

func Start(ctx context.Context, s *migrate.Schema) error {
	return s.Create(ctx) // want `ent's Schema.Create changes the schema at every start`
}

// StartTwice counts once: one function, one decision.
func StartTwice(ctx context.Context, a, b *migrate.Schema) error {
	if err := a.Create(ctx); err != nil { // want `ent's Schema.Create changes the schema at every start`
		return err
	}
	return b.Create(ctx)
}
