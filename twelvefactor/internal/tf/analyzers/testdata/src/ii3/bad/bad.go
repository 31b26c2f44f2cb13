package bad

import (
	"context"
	"os/exec"
)

func Fetch(ctx context.Context, url string) ([]byte, error) {
	return exec.CommandContext(ctx, "curl", "-s", url).Output() // want `exec.CommandContext runs "curl"`
}

func Dump() error {
	return exec.Command("pg_dump").Run() // want `exec.Command runs "pg_dump"`
}
