package external

import (
	"context"
	"embed"

	"github.com/golang-migrate/migrate/v4"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5/pgxpool"
)

var fsys embed.FS

func Pool(ctx context.Context) (*pgxpool.Pool, error) {
	return pgxpool.New(ctx, "postgres://localhost:5432/app") // want `pgxpool.New is given the constant connection string`
}

func Migrate(url string) error {
	src, err := iofs.New(fsys, "migrations") // a path, not a connection string
	if err != nil {
		return err
	}
	_, err = migrate.NewWithSourceInstance("iofs", src, url)
	_, _ = migrate.New("file://migrations", "postgres://localhost/app") // want `migrate.New is given the constant connection string`
	return err
}
