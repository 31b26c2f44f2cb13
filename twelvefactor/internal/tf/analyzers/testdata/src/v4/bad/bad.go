// Package bad creates the schema whenever the service starts.
package bad

import (
	"context"

	"v4/bad/ent/migrate"
)

func Start(ctx context.Context, s *migrate.Schema) error {
	return s.Create(ctx) // want `ent's Schema.Create changes the schema at every start of the service \(3 calls in this package\)`
}

// StartTwice counts with Start: one package, one decision, reported at
// its first call.
func StartTwice(ctx context.Context, a, b *migrate.Schema) error {
	if err := a.Create(ctx); err != nil {
		return err
	}
	return b.Create(ctx)
}
