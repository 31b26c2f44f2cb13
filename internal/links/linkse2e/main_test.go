package linkse2e

import (
	"context"
	"maps"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/dozen-go/dozen/internal/e2e"
	"github.com/dozen-go/dozen/internal/redis/redistest"
)

func TestMain(m *testing.M) {
	e2e.Main(m, "server", "worker", "admin")
}

// token is the bearer token the tests' processes accept.
const token = "e2e-token-0123456789abcdef"

// start runs a binary as e2e.Start does, accepting token.
func start(t *testing.T, name string, env map[string]string) *e2e.Process {
	t.Helper()
	full := map[string]string{"API_TOKENS": token}
	maps.Copy(full, env)
	return e2e.Start(t, name, full)
}

// redisKeys returns the keys under prefix, for a test that checks what a
// process left in Redis.
func redisKeys(t testing.TB, prefix string) []string {
	t.Helper()
	var keys []string
	err := redistest.Scan(redistest.URL(t), prefix, func(ctx context.Context, rdb *goredis.Client, batch []string) error {
		keys = append(keys, batch...)
		return nil
	})
	if err != nil {
		t.Fatalf("list the keys under %s: %v", prefix, err)
	}
	return keys
}
