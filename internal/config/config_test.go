package config

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dozen-go/dozen/internal/buildinfo"
	"github.com/dozen-go/dozen/internal/secret"
)

var update = flag.Bool("update", false, "rewrite .env.example from the Config struct")

// env returns a lookup function over a fixed map, like os.LookupEnv.
func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatalf("Load(empty env) error = %v", err)
	}
	if c.Port != 8080 || c.Log.Level != slog.LevelInfo || c.Log.Format != LogJSON ||
		c.Shutdown.DrainDelay != 5*time.Second || c.HTTP.MaxInFlight != 512 {
		t.Errorf("Load(empty env) = %+v, want the documented defaults", c)
	}
}

func TestLoadOverrides(t *testing.T) {
	c, err := Load(env(map[string]string{
		"PORT":        "5000",
		"LOG_LEVEL":   "debug",
		"LOG_FORMAT":  "console",
		"DRAIN_DELAY": "0s",
		// An empty variable counts as unset, so its default applies.
		"SHUTDOWN_TIMEOUT": "",
	}))
	if err != nil {
		t.Fatalf("Load() error = %v", err)
	}
	got := []any{c.Port, c.Log.Level, c.Log.Format, c.Shutdown.DrainDelay, c.Shutdown.Timeout}
	want := []any{5000, slog.LevelDebug, LogConsole, time.Duration(0), 20 * time.Second}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load() = %v, want %v (port, log level, log format, drain delay, shutdown timeout)", got, want)
	}
}

func TestLoadReportsEveryProblem(t *testing.T) {
	const secretish = "hunter2-s3cr3t"
	_, err := Load(env(map[string]string{
		"PORT":               secretish,
		"LOG_LEVEL":          secretish,
		"LOG_FORMAT":         secretish,
		"HTTP_READ_TIMEOUT":  secretish,
		"HTTP_MAX_IN_FLIGHT": "0",
		"DRAIN_DELAY":        "-1s",
	}))
	var cerr *Error
	if !errors.As(err, &cerr) {
		t.Fatalf("Load() error = %v, want *config.Error", err)
	}
	var got []string
	for _, p := range cerr.Problems {
		got = append(got, p.Var)
	}
	want := []string{"PORT", "LOG_LEVEL", "LOG_FORMAT", "HTTP_READ_TIMEOUT", "HTTP_MAX_IN_FLIGHT", "DRAIN_DELAY"}
	if !slices.Equal(got, want) {
		t.Errorf("problems named = %q, want %q", got, want)
	}
	if strings.Contains(err.Error(), secretish) {
		t.Errorf("Load() error = %q, contains a value", err)
	}
	for _, v := range want {
		if !strings.Contains(err.Error(), v) {
			t.Errorf("Load() error = %q, does not name %s", err, v)
		}
	}
}

// required is a spec with required settings, as later features add them.
type required struct {
	Token Secret `envconfig:"TOKEN" required:"true" desc:"a token"`
	DB    URL    `envconfig:"DB_URL" required:"true" desc:"a database"`
	Count int    `envconfig:"COUNT" desc:"optional, no default"`
}

func TestProcessRequired(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []Problem
	}{
		{"unset", nil, []Problem{{"TOKEN", "is required but not set"}, {"DB_URL", "is required but not set"}}},
		{"empty counts as missing", map[string]string{"TOKEN": "", "DB_URL": "postgres://h/db"}, []Problem{{"TOKEN", "is required but not set"}}},
		{"bad URL", map[string]string{"TOKEN": "t", "DB_URL": "::pass@word"}, []Problem{{"DB_URL", "is not a valid config.URL"}}},
		{"ok", map[string]string{"TOKEN": "t", "DB_URL": "postgres://u:p@h/db"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r required
			err := Process(&r, env(tt.env))
			var got []Problem
			if cerr := (*Error)(nil); errors.As(err, &cerr) {
				got = cerr.Problems
			} else if err != nil {
				t.Fatalf("Process() error = %v, want *config.Error", err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Process() problems = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestSecretsAreMasked(t *testing.T) {
	const password = "p4ssw0rd-do-not-print"
	var r required
	err := Process(&r, env(map[string]string{
		"TOKEN":  password,
		"DB_URL": "postgres://app:" + password + "@db.internal:5432/app?password=" + password + "&sslmode=require",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if r.Token.Reveal() != password {
		t.Errorf("Token.Reveal() = %q, want the value", r.Token.Reveal())
	}
	if !strings.Contains(r.DB.Value(), password) {
		t.Errorf("DB.Value() = %q, want the full URL", r.DB.Value())
	}
	jsonOut, _ := json.Marshal(r)
	var logOut strings.Builder
	slog.New(slog.NewJSONHandler(&logOut, nil)).Info("config", "token", r.Token, "db", r.DB, "all", r)
	text, _ := r.Token.MarshalText()
	urlText, _ := r.DB.MarshalText()
	renderings := map[string]string{
		"%v":          fmt.Sprintf("%v", r),
		"%+v":         fmt.Sprintf("%+v", r),
		"%#v":         fmt.Sprintf("%#v", r),
		"%s":          fmt.Sprintf("%s %s", r.Token, r.DB),
		"json":        string(jsonOut),
		"slog":        logOut.String(),
		"text":        string(text) + string(urlText),
		"Effective":   fmt.Sprint(Effective(&r)),
		"Token.Value": r.Token.String(),
	}
	for name, s := range renderings {
		if strings.Contains(s, password) {
			t.Errorf("%s rendering = %q, contains the secret", name, s)
		}
		if !strings.Contains(s, secret.Mask) && !strings.Contains(s, "xxxxx") {
			t.Errorf("%s rendering = %q, shows no mask", name, s)
		}
	}
	if got := r.DB.String(); !strings.Contains(got, "db.internal:5432") {
		t.Errorf("DB.String() = %q, want the host kept for diagnosis", got)
	}
}

func TestEnvExampleMatchesConfig(t *testing.T) {
	const path = "../../.env.example"
	want := envExample(&Config{})
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v (run go test ./internal/config -update)", path, err)
	}
	if string(got) != want {
		t.Errorf(".env.example disagrees with Config at %s; run go test ./internal/config -update", firstDifference(want, string(got)))
	}
}

// firstDifference names the first line where got departs from want, with
// both versions of it, for a failure message about a generated file.
func firstDifference(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(w), len(g)) {
		wl, gl := "(end of text)", "(end of text)"
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d: got %q, want %q", i+1, gl, wl)
		}
	}
	return "no line (the texts are equal)"
}

func TestReadmeTableMatchesConfig(t *testing.T) {
	const (
		path  = "../../README.md"
		begin = "<!-- config table: generated by go test ./internal/config -update -->\n"
		end   = "<!-- end of config table -->"
	)
	readme, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(readme)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the config table markers %q ... %q", path, begin, end)
	}
	want := markdownTable(&Config{})
	if *update {
		s = s[:i+len(begin)] + want + s[j:]
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got := s[i+len(begin) : j]; got != want {
		t.Errorf("README config table disagrees with Config at %s; run go test ./internal/config -update", firstDifference(want, got))
	}
}

// TestEnvExampleLoads checks that the example file, read as an environment,
// is itself a valid configuration.
func TestEnvExampleLoads(t *testing.T) {
	m := map[string]string{}
	listed := 0 // set, or shown commented out because optional without a default
	for _, line := range strings.Split(envExample(&Config{}), "\n") {
		k, v, ok := strings.Cut(strings.TrimPrefix(line, "# "), "=")
		if !ok || strings.ContainsAny(k, " #") {
			continue
		}
		listed++
		if !strings.HasPrefix(line, "#") {
			m[k] = v
		}
	}
	if listed != len(Vars(&Config{})) {
		t.Errorf(".env.example lists %d variables, Config has %d", listed, len(Vars(&Config{})))
	}
	if _, err := Load(env(m)); err != nil {
		t.Errorf("Load(.env.example) error = %v", err)
	}
}

func TestLoadBackingServiceURLs(t *testing.T) {
	const password = "s3cr3t-pw"
	tests := []struct {
		name string
		env  map[string]string
		want []string // variables named in the error; nil means no error
	}{
		{"unset: embedded and in-process", nil, nil},
		{"postgres", map[string]string{"DATABASE_URL": "postgres://u:" + password + "@h:5432/db?sslmode=require"}, nil},
		{"postgresql", map[string]string{"DATABASE_URL": "postgresql://u@h/db"}, nil},
		{"redis and rediss", map[string]string{"REDIS_URL": "rediss://:" + password + "@h:6380", "REDIS_TLS_SKIP_VERIFY": "true"}, nil},
		{"wrong database scheme", map[string]string{"DATABASE_URL": "mysql://u:" + password + "@h/db"}, []string{"DATABASE_URL"}},
		{"wrong redis scheme", map[string]string{"REDIS_URL": "http://:" + password + "@h"}, []string{"REDIS_URL"}},
		{"both wrong", map[string]string{"DATABASE_URL": "redis://h", "REDIS_URL": "postgres://h"}, []string{"DATABASE_URL", "REDIS_URL"}},
		{"not a URL", map[string]string{"DATABASE_URL": password}, []string{"DATABASE_URL"}},
		{"bad pool size", map[string]string{"DATABASE_MAX_CONNS": "0"}, []string{"DATABASE_MAX_CONNS"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(env(tt.env))
			var got []string
			if cerr := (*Error)(nil); errors.As(err, &cerr) {
				for _, p := range cerr.Problems {
					got = append(got, p.Var)
				}
			} else if err != nil {
				t.Fatalf("Load() error = %v, want *config.Error", err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Load() problems = %q, want %q", got, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), password) {
				t.Errorf("Load() error = %q, contains the password", err)
			}
			if err == nil && strings.Contains(fmt.Sprint(Effective(&c)), password) {
				t.Errorf("Effective() = %v, contains the password", Effective(&c))
			}
		})
	}
}

func TestRedisKeyPrefix(t *testing.T) {
	tests := []struct{ module, want string }{
		{"example.com/acme/orders", "orders:"},
		{"example.com/acme/orders/v2", "orders:"},
		{"orders", "orders:"},
		{"example.com/acme/v2fast", "v2fast:"},
		{"", "app:"},
	}
	for _, tt := range tests {
		if got := DefaultKeyPrefix(tt.module); got != tt.want {
			t.Errorf("DefaultKeyPrefix(%q) = %q, want %q", tt.module, got, tt.want)
		}
	}
	// Unset, the prefix is this service's own; set, it is as given.
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if want := DefaultKeyPrefix(buildinfo.Read().Module); c.Redis.KeyPrefix != want || want == "app:" {
		t.Errorf("Load() REDIS_KEY_PREFIX unset = %q, want %q from the module path", c.Redis.KeyPrefix, want)
	}
	c, err = Load(env(map[string]string{"REDIS_KEY_PREFIX": "shop:"}))
	if err != nil || c.Redis.KeyPrefix != "shop:" {
		t.Errorf("Load(REDIS_KEY_PREFIX=shop:) = %q, %v; want shop:", c.Redis.KeyPrefix, err)
	}
}

// Values at the edges of their range are refused at load, naming the
// variable: a negative drain delay, and keys kept too briefly for a retry.
func TestLoadRefusesEdgeValues(t *testing.T) {
	for name, value := range map[string]string{
		"DRAIN_DELAY":     "-1s",
		"IDEMPOTENCY_TTL": "1s",
	} {
		_, err := Load(env(map[string]string{name: value, "DATA_DIR": t.TempDir()}))
		var cerr *Error
		if !errors.As(err, &cerr) || len(cerr.Problems) != 1 || cerr.Problems[0].Var != name {
			t.Errorf("Load(%s=%s) = %v, want one problem naming %s", name, value, err, name)
		}
		if err != nil && strings.Contains(err.Error(), value) {
			t.Errorf("Load(%s=%s) error %q shows the value", name, value, err)
		}
	}
}

// pair is a group of settings with a check of its own.
type pair struct {
	Low  int `envconfig:"LOW" default:"1"`
	High int `envconfig:"HIGH" default:"2"`
}

func (p pair) Check(problem func(name, reason string)) {
	if p.Low > p.High {
		problem("LOW", "must not exceed HIGH")
	}
}

// TestCheckers checks that the groups of settings that check themselves,
// such as a feature's, are checked, and that others are left alone.
func TestCheckers(t *testing.T) {
	var spec struct {
		Pair  pair
		Other struct {
			N int `envconfig:"N"`
		}
	}
	for _, tt := range []struct {
		env  map[string]string
		want []string
	}{
		{nil, nil},
		{map[string]string{"LOW": "3"}, []string{"LOW"}},
	} {
		if err := Process(&spec, env(tt.env)); err != nil {
			t.Fatal(err)
		}
		var got []string
		checkers(spec, func(name, _ string) { got = append(got, name) })
		if !slices.Equal(got, tt.want) {
			t.Errorf("checkers(%v) problems = %q, want %q", tt.env, got, tt.want)
		}
	}
}
