// Package redis attaches Redis (factor IV), the optional backing service
// for data that replicas share but can afford to lose: cached reads and
// rate-limit counters. Without REDIS_URL there is no Client: each consumer
// has its own in-process fallback (see cmd/server), and declares the
// small interface of Client's methods that it needs.
package redis

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/extra/redisotel/v9"
	goredis "github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/trace"

	"github.com/dozen-go/dozen/internal/config"
	"github.com/dozen-go/dozen/internal/tracing"
)

// ErrMiss means the key holds no value, or its value expired.
var ErrMiss = errors.New("cache miss")

// Client is a connection pool to a Redis server.
type Client struct {
	rdb    *goredis.Client
	prefix string // starts every key; see WithKeyPrefix
}

// Open returns a client of the server at u (redis:// or rediss:// for
// TLS). It connects lazily: a server that is down now makes calls fail,
// not Open. skipVerify accepts a certificate that cannot be verified, as
// Heroku Redis presents; it has no effect without TLS.
//
// Timeouts are short on purpose: Redis is optional, so waiting long for it
// would only make requests slow when the fallback could answer.
//
// With a tracer, every command made inside a request's or a job's span
// is traced: a child span named after the command, without its
// arguments, which hold keys and cached values. Commands outside any
// span, such as readiness pings, start no trace (see
// tracing.ChildrenOnly).
func Open(u config.URL, skipVerify bool, tracer trace.TracerProvider) (*Client, error) {
	opt, err := goredis.ParseURL(u.Value())
	if err != nil {
		// go-redis' messages can quote parts of the URL; name the variable.
		return nil, errors.New("open redis: REDIS_URL is not a valid redis:// or rediss:// URL")
	}
	if opt.TLSConfig != nil {
		opt.TLSConfig.MinVersion = tls.VersionTLS12
		opt.TLSConfig.InsecureSkipVerify = skipVerify
	}
	opt.DialTimeout = 2 * time.Second
	opt.ReadTimeout = time.Second
	opt.WriteTimeout = time.Second
	opt.MaxRetries = 1
	rdb := goredis.NewClient(opt)
	if tracer != nil {
		err := redisotel.InstrumentTracing(rdb, redisotel.WithTracerProvider(tracing.ChildrenOnly(tracer)),
			redisotel.WithDBStatement(false), redisotel.WithCallerEnabled(false))
		if err != nil {
			rdb.Close()
			return nil, fmt.Errorf("open redis: tracing: %w", err)
		}
	}
	return &Client{rdb: rdb}, nil
}

// WithKeyPrefix returns a client over the same connections whose every key
// starts with prefix, so that services sharing a Redis database keep apart
// (REDIS_KEY_PREFIX). Close one of the two, once.
func (c *Client) WithKeyPrefix(prefix string) *Client {
	return &Client{rdb: c.rdb, prefix: prefix}
}

// Ping checks that the server answers.
func (c *Client) Ping(ctx context.Context) error {
	if err := c.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("ping redis: %w", err)
	}
	return nil
}

// Get returns the value of key, or ErrMiss.
func (c *Client) Get(ctx context.Context, key string) ([]byte, error) {
	b, err := c.rdb.Get(ctx, c.prefix+key).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, ErrMiss
	}
	if err != nil {
		return nil, fmt.Errorf("redis get: %w", err)
	}
	return b, nil
}

// Set stores value under key for ttl.
func (c *Client) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := c.rdb.Set(ctx, c.prefix+key, value, ttl).Err(); err != nil {
		return fmt.Errorf("redis set: %w", err)
	}
	return nil
}

// Add stores value under key for ttl unless key holds a value already,
// and reports whether it stored it (Redis SET NX).
func (c *Client) Add(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	ok, err := c.rdb.SetNX(ctx, c.prefix+key, value, ttl).Result()
	if err != nil {
		return false, fmt.Errorf("redis set nx: %w", err)
	}
	return ok, nil
}

// incrScript increments a counter and starts its expiry on the first
// increment only, atomically, so a window's counter cannot lose its TTL.
var incrScript = goredis.NewScript(`
local n = redis.call("INCR", KEYS[1])
if n == 1 then redis.call("PEXPIRE", KEYS[1], ARGV[1]) end
return n`)

// Incr adds one to the counter at key and returns the new count. The first
// increment starts the counter's ttl; later ones do not extend it.
func (c *Client) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	n, err := incrScript.Run(ctx, c.rdb, []string{c.prefix + key}, ttl.Milliseconds()).Int64()
	if err != nil {
		return 0, fmt.Errorf("redis incr: %w", err)
	}
	return n, nil
}

// slidingWindowScript decides one event against a sliding-window limit
// and counts it when allowed, in one step, so that replicas deciding at
// once cannot all see room for the same last event. The estimate is the
// previous window's count weighted by how much of it the sliding window
// still covers, plus the current window's count. The clock is the
// server's, one for every replica. Each window's counter lives for two
// windows: the next window reads it as its previous one.
// KEYS[1]: the limit's key; ARGV: limit, window in milliseconds.
// Returns {1, 0} when allowed, {0, milliseconds until the window ends}.
var slidingWindowScript = goredis.NewScript(`
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local w = tonumber(ARGV[2])
local idx = math.floor(now / w)
local elapsed = now - idx * w
local cur = KEYS[1] .. ":" .. string.format("%d", idx)
local c = tonumber(redis.call("GET", cur) or "0")
local p = tonumber(redis.call("GET", KEYS[1] .. ":" .. string.format("%d", idx - 1)) or "0")
if p * (w - elapsed) / w + c >= limit then return {0, w - elapsed} end
if redis.call("INCR", cur) == 1 then redis.call("PEXPIRE", cur, 2 * w) end
return {1, 0}`)

// SlidingWindow counts one event at key against limit events per window,
// unless that would go over the limit, and reports whether it counted it;
// when not, retryAfter is how long until the current window ends. The
// decision and the count are one atomic step on the server (a Lua script
// run by EVALSHA), so clients sharing the server share the limit exactly.
func (c *Client) SlidingWindow(ctx context.Context, key string, limit int, window time.Duration) (allowed bool, retryAfter time.Duration, err error) {
	res, err := slidingWindowScript.Run(ctx, c.rdb, []string{c.prefix + key}, limit, window.Milliseconds()).Int64Slice()
	if err != nil {
		return false, 0, fmt.Errorf("redis sliding window: %w", err)
	}
	if len(res) != 2 {
		return false, 0, fmt.Errorf("redis sliding window: %d values returned, want 2", len(res))
	}
	return res[0] == 1, time.Duration(res[1]) * time.Millisecond, nil
}

// Delete removes key.
func (c *Client) Delete(ctx context.Context, key string) error {
	if err := c.rdb.Del(ctx, c.prefix+key).Err(); err != nil {
		return fmt.Errorf("redis del: %w", err)
	}
	return nil
}

// Close closes the connection pool.
func (c *Client) Close() error {
	return c.rdb.Close()
}
