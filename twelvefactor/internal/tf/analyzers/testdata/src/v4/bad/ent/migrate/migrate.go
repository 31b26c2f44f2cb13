// Package migrate stands for the schema package ent generates.
package migrate

import "context"

type Schema struct{}

func (s *Schema) Create(ctx context.Context) error { return nil }
