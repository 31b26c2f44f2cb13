// Package config reads the service's configuration from the environment,
// once, at start (factor III). No other package reads the environment: the
// Config value is passed down to whoever needs a setting.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"time"

	"github.com/dozen-go/dozen/internal/buildinfo"
	"github.com/dozen-go/dozen/internal/links/linkconfig"
)

// Config is every setting of the service. Each field names its variable,
// its default and what it is for; .env.example is generated from these tags.
type Config struct {
	// Port is the public HTTP listener's port. Heroku and most platforms set it.
	Port int `envconfig:"PORT" default:"8080" desc:"TCP port of the public HTTP listener; platforms set it"`
	// AdminAddr is the private listener for /metrics and /debug/pprof. It
	// must never be reachable from the internet.
	AdminAddr string `envconfig:"ADMIN_ADDR" default:"127.0.0.1:9090" desc:"host:port of the private listener for /metrics and /debug/pprof"`

	Log      Log
	HTTP     HTTP
	Ready    Ready
	Shutdown Shutdown
	Database Database
	Redis    Redis
	// Idempotency keys: a building block of retried writes.
	Idempotency Idempotency
	Worker      Worker
	Links       linkconfig.Config // example
}

// Worker configures the worker process (cmd/worker).
type Worker struct {
	Concurrency  int           `envconfig:"WORKER_CONCURRENCY" default:"4" desc:"jobs one worker process runs at once"`
	JobTimeout   time.Duration `envconfig:"JOB_TIMEOUT" default:"1m" desc:"a job running longer is cancelled and retried"`
	PollInterval time.Duration `envconfig:"JOB_POLL_INTERVAL" default:"1s" desc:"how often the worker looks for new jobs"`
	// PurgeInterval paces the periodic purges of what expired: the
	// idempotency keys, and the expired rows of a feature that keeps any.
	PurgeInterval time.Duration `envconfig:"PURGE_INTERVAL" default:"1h" desc:"how often the worker deletes what expired, such as idempotency keys (on one worker at a time)"`
}

// Idempotency configures the Idempotency-Key building block (package
// idempotency): how long a key and its response are kept. The worker
// deletes the expired ones every PURGE_INTERVAL.
type Idempotency struct {
	TTL time.Duration `envconfig:"IDEMPOTENCY_TTL" default:"24h" desc:"how long an Idempotency-Key and its response are kept"`
}

// Database attaches the SQL database (factor IV). With DATABASE_URL set,
// the service uses that Postgres; unset, it uses an embedded SQLite file
// under DataDir, which is for trying the service out, not for production.
type Database struct {
	// URL is the Postgres server, as Heroku and most platforms set it:
	// postgres:// or postgresql://, with libpq parameters such as sslmode.
	URL URL `envconfig:"DATABASE_URL" desc:"Postgres URL (postgres:// or postgresql://); unset uses an embedded SQLite file under DATA_DIR, not for production"`
	// DataDir holds the embedded SQLite file. Only used without URL.
	DataDir string `envconfig:"DATA_DIR" default:"data" desc:"directory of the embedded SQLite database, used when DATABASE_URL is unset"`
	// MaxConns caps the Postgres pool of each process.
	MaxConns int `envconfig:"DATABASE_MAX_CONNS" default:"10" desc:"most Postgres connections each process opens"`
	// ConnectAttempts and ConnectTimeout bound the start-up wait for a
	// database that is still coming up: each attempt waits up to
	// ConnectTimeout, with a growing pause between attempts.
	ConnectAttempts int           `envconfig:"DATABASE_CONNECT_ATTEMPTS" default:"5" desc:"attempts to reach Postgres at start before giving up"`
	ConnectTimeout  time.Duration `envconfig:"DATABASE_CONNECT_TIMEOUT" default:"5s" desc:"time allowed for one connection attempt to Postgres"`
	// MigrationLockTimeout is how long a migrator waits for another one to
	// finish. It is Postgres' lock_timeout on the migration connection, so
	// a migrator that gives up never holds the lock.
	MigrationLockTimeout time.Duration `envconfig:"MIGRATION_LOCK_TIMEOUT" default:"15s" desc:"how long admin migrate waits for a concurrent migration before giving up"`
}

// Embedded reports whether the service uses the embedded SQLite database.
func (d Database) Embedded() bool { return !d.URL.IsSet() }

// Redis attaches Redis (factor IV). It is optional: unset, the service uses
// in-process equivalents, which are not shared between processes.
type Redis struct {
	URL URL `envconfig:"REDIS_URL" desc:"Redis URL (redis:// or rediss:// for TLS); unset uses in-process equivalents that replicas do not share"`
	// TLSSkipVerify accepts a server certificate that cannot be verified,
	// as Heroku Redis presents. It must be asked for explicitly.
	TLSSkipVerify bool `envconfig:"REDIS_TLS_SKIP_VERIFY" default:"false" desc:"accept an unverifiable rediss:// certificate (Heroku Redis' self-signed one); true only when the provider requires it"`
	// KeyPrefix starts every key the service writes, so that services
	// sharing a Redis database keep apart. Unset, Load derives it from the
	// service's module path, which gonew sets per service.
	KeyPrefix string `envconfig:"REDIS_KEY_PREFIX" desc:"prefix of every Redis key, so services can share a Redis database; unset, the last element of the service's Go module path and a colon"`
}

// DefaultKeyPrefix is the Redis key prefix of a service whose Go module
// path is module: its last element (a major version suffix skipped) and a
// colon, or "app:" when the build recorded no module.
func DefaultKeyPrefix(module string) string {
	parts := strings.Split(module, "/")
	name := parts[len(parts)-1]
	if len(parts) > 1 && isMajorVersion(name) {
		name = parts[len(parts)-2]
	}
	if name == "" {
		name = "app"
	}
	return name + ":"
}

// isMajorVersion reports whether a module path element is a major version
// suffix such as v2.
func isMajorVersion(s string) bool {
	if len(s) < 2 || s[0] != 'v' {
		return false
	}
	for _, r := range s[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// Log configures the process logger (factor XI: an event stream on stdout).
type Log struct {
	Level  slog.Level `envconfig:"LOG_LEVEL" default:"info" desc:"lowest level logged: debug, info, warn or error"`
	Format LogFormat  `envconfig:"LOG_FORMAT" default:"json" desc:"json for machines, console for people at a terminal"`
	// FlushInterval batches log writes: lines are written to stdout at most
	// this long after they are logged, and at once on shutdown. A crash can
	// lose at most this much of the log. Zero writes every line at once.
	FlushInterval time.Duration `envconfig:"LOG_FLUSH_INTERVAL" default:"100ms" desc:"longest time a log line waits in the write buffer; 0s writes each line at once"`
}

// HTTP configures the public HTTP server.
type HTTP struct {
	ReadHeaderTimeout time.Duration `envconfig:"HTTP_READ_HEADER_TIMEOUT" default:"5s" desc:"time allowed to read a request's headers (slow-client defence)"`
	ReadTimeout       time.Duration `envconfig:"HTTP_READ_TIMEOUT" default:"30s" desc:"time allowed to read a whole request, body included"`
	WriteTimeout      time.Duration `envconfig:"HTTP_WRITE_TIMEOUT" default:"30s" desc:"time allowed from the end of the request headers to the end of the response"`
	IdleTimeout       time.Duration `envconfig:"HTTP_IDLE_TIMEOUT" default:"120s" desc:"how long an idle keep-alive connection stays open"`
	MaxHeaderBytes    int           `envconfig:"HTTP_MAX_HEADER_BYTES" default:"16384" desc:"largest request header block accepted; larger gets 431"`
	MaxBodyBytes      int64         `envconfig:"HTTP_MAX_BODY_BYTES" default:"1048576" desc:"largest request body a route accepts unless it sets its own limit; larger gets 413"`
	RequestTimeout    time.Duration `envconfig:"HTTP_REQUEST_TIMEOUT" default:"10s" desc:"deadline of a request's context and of its body's read, unless its route sets its own"`
	MaxInFlight       int           `envconfig:"HTTP_MAX_IN_FLIGHT" default:"512" desc:"requests served at once; more get 503 with Retry-After at once"`
	// TrustedProxies is how many reverse proxies append to X-Forwarded-For
	// in front of the service. Zero trusts none and uses the peer address.
	TrustedProxies int `envconfig:"TRUSTED_PROXIES" default:"0" desc:"number of proxies in front that append to X-Forwarded-For (Heroku: 1); 0 uses the peer address"`
}

// Ready configures the readiness check of backing services.
type Ready struct {
	Timeout  time.Duration `envconfig:"READY_TIMEOUT" default:"2s" desc:"deadline for checking every backing service in /readyz"`
	CacheTTL time.Duration `envconfig:"READY_CACHE_TTL" default:"1s" desc:"how long a /readyz answer is reused, so probes cannot overload backing services"`
}

// Shutdown configures the graceful stop (factor IX). DrainDelay plus
// Timeout must fit the platform's grace period: Heroku kills 30 s after
// SIGTERM; Kubernetes after terminationGracePeriodSeconds.
type Shutdown struct {
	DrainDelay time.Duration `envconfig:"DRAIN_DELAY" default:"5s" desc:"after SIGTERM, how long /readyz answers 503 while requests are still served, so load balancers stop routing here"`
	Timeout    time.Duration `envconfig:"SHUTDOWN_TIMEOUT" default:"20s" desc:"how long in-flight requests may take to finish once the listener closes"`
}

// Load reads the configuration with lookup, which has the signature of
// os.LookupEnv, and checks it. The error, if any, lists every problem.
func Load(lookup func(string) (string, bool)) (Config, error) {
	var c Config
	var problems []Problem
	if err := Process(&c, lookup); err != nil {
		var cerr *Error
		if !errors.As(err, &cerr) {
			return Config{}, err
		}
		problems = cerr.Problems
	}
	// A variable that failed to parse holds its zero value: report only
	// the parse problem for it, not a range problem as well.
	reported := map[string]bool{}
	for _, p := range problems {
		reported[p.Var] = true
	}
	for _, p := range c.validate() {
		if !reported[p.Var] {
			problems = append(problems, p)
		}
	}
	if len(problems) > 0 {
		return Config{}, &Error{Problems: problems}
	}
	if c.Redis.KeyPrefix == "" {
		c.Redis.KeyPrefix = DefaultKeyPrefix(buildinfo.Read().Module)
	}
	return c, nil
}

// validate checks ranges that envconfig's types cannot express.
func (c Config) validate() []Problem {
	var problems []Problem
	check := func(ok bool, name, reason string) {
		if !ok {
			problems = append(problems, Problem{name, reason})
		}
	}
	check(c.Port >= 0 && c.Port <= 65535, "PORT", "must be between 0 and 65535")
	check(c.HTTP.MaxHeaderBytes >= 1024, "HTTP_MAX_HEADER_BYTES", "must be at least 1024")
	check(c.HTTP.MaxBodyBytes >= 1, "HTTP_MAX_BODY_BYTES", "must be at least 1")
	check(c.HTTP.MaxInFlight >= 1, "HTTP_MAX_IN_FLIGHT", "must be at least 1")
	check(c.HTTP.TrustedProxies >= 0, "TRUSTED_PROXIES", "must not be negative")
	check(c.HTTP.ReadHeaderTimeout > 0, "HTTP_READ_HEADER_TIMEOUT", "must be positive")
	check(c.HTTP.ReadTimeout > 0, "HTTP_READ_TIMEOUT", "must be positive")
	check(c.HTTP.WriteTimeout > 0, "HTTP_WRITE_TIMEOUT", "must be positive")
	check(c.HTTP.IdleTimeout > 0, "HTTP_IDLE_TIMEOUT", "must be positive")
	check(c.HTTP.RequestTimeout > 0, "HTTP_REQUEST_TIMEOUT", "must be positive")
	check(c.Ready.Timeout > 0, "READY_TIMEOUT", "must be positive")
	check(c.Shutdown.Timeout > 0, "SHUTDOWN_TIMEOUT", "must be positive")
	check(c.Idempotency.TTL >= time.Minute, "IDEMPOTENCY_TTL", "must be at least 1m")
	check(c.Worker.Concurrency >= 1, "WORKER_CONCURRENCY", "must be at least 1")
	check(c.Worker.JobTimeout > 0, "JOB_TIMEOUT", "must be positive")
	check(c.Worker.PollInterval >= 10*time.Millisecond, "JOB_POLL_INTERVAL", "must be at least 10ms")
	check(c.Worker.PurgeInterval >= time.Second, "PURGE_INTERVAL", "must be at least 1s")
	check(c.Log.FlushInterval >= 0, "LOG_FLUSH_INTERVAL", "must not be negative")
	check(c.Ready.CacheTTL >= 0, "READY_CACHE_TTL", "must not be negative")
	check(c.Shutdown.DrainDelay >= 0, "DRAIN_DELAY", "must not be negative")
	if c.Database.URL.IsSet() {
		s := c.Database.URL.Scheme()
		check(s == "postgres" || s == "postgresql", "DATABASE_URL", "must be a postgres:// or postgresql:// URL")
	}
	check(c.Database.DataDir != "" || c.Database.URL.IsSet(), "DATA_DIR", "must be set when DATABASE_URL is not")
	check(c.Database.MaxConns >= 1, "DATABASE_MAX_CONNS", "must be at least 1")
	check(c.Database.ConnectAttempts >= 1, "DATABASE_CONNECT_ATTEMPTS", "must be at least 1")
	check(c.Database.ConnectTimeout > 0, "DATABASE_CONNECT_TIMEOUT", "must be positive")
	check(c.Database.MigrationLockTimeout > 0, "MIGRATION_LOCK_TIMEOUT", "must be positive")
	if c.Redis.URL.IsSet() {
		s := c.Redis.URL.Scheme()
		check(s == "redis" || s == "rediss", "REDIS_URL", "must be a redis:// or rediss:// URL")
	}
	checkers(c, func(name, reason string) { problems = append(problems, Problem{name, reason}) })
	return problems
}

// A Checker is a group of settings that checks itself, such as a
// feature's: Load calls Check on each field of Config that is one, and
// reports every problem it names. A reason never holds the value, which
// may be a secret.
type Checker interface {
	Check(problem func(name, reason string))
}

// checkers calls Check on each field of spec, a struct, that is a
// Checker.
func checkers(spec any, problem func(name, reason string)) {
	v := reflect.ValueOf(spec)
	for i := range v.NumField() {
		if ch, ok := v.Field(i).Interface().(Checker); ok {
			ch.Check(problem)
		}
	}
}

// LogFormat is how log lines are written: JSON for machines or a console
// layout for people.
type LogFormat string

// The log formats.
const (
	LogJSON    LogFormat = "json"
	LogConsole LogFormat = "console"
)

// Decode lets envconfig parse a LogFormat.
func (f *LogFormat) Decode(s string) error {
	switch LogFormat(s) {
	case LogJSON, LogConsole:
		*f = LogFormat(s)
		return nil
	}
	return fmt.Errorf("unknown log format")
}

// Describe names the accepted values for error messages.
func (*LogFormat) Describe() string { return "json or console" }
