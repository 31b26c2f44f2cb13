package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/dozen-go/dozen/internal/buildinfo"
	"github.com/dozen-go/dozen/internal/config"
	"github.com/dozen-go/dozen/internal/database"
	"github.com/dozen-go/dozen/internal/logging"
	"github.com/dozen-go/dozen/internal/redis"
	"github.com/dozen-go/dozen/internal/schema"
	"github.com/dozen-go/dozen/migrations"
)

const usage = `usage: admin <command> [arguments]

One-off processes, run with the same configuration and code as the web
process. Results go to stdout, progress logs to stderr.

commands:
  migrate up           apply every pending migration, the service's and River's
                       (the release step)
  migrate down N       roll back the last N of the service's migrations
  migrate status       show the schema versions, pending migrations, dirty state
  migrate force V      record version V as applied and clear the dirty flag
                       (V a version number, or none)
  migrate create NAME  add the next-numbered migration for every dialect
  config               print the effective configuration, secrets masked
  check                ping each configured backing service
  version              print the build's version

Run "admin <command> --help" for details. Exit status: 0 done, 1 failed,
2 wrong usage.
`

// usageError is a command line that cannot be run; it exits 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg + " (see --help)" }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// exitCode is 2 for wrong usage and 1 for any other failure.
func exitCode(err error) int {
	var ue *usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

// env is what every command gets.
type env struct {
	ctx       context.Context
	lookupEnv func(string) (string, bool)
	stdout    io.Writer
	stderr    io.Writer
}

// command is one subcommand: its arguments' synopsis, help text, and
// what it does with the arguments left after its flags.
type command struct {
	args, help string
	run        func(e env, fs *flag.FlagSet) error
	flags      func(fs *flag.FlagSet)
}

// run dispatches args to a command. Commands print their results to
// stdout; the logger writes progress to stderr.
func run(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stdout, stderr io.Writer) error {
	e := env{ctx: ctx, lookupEnv: lookupEnv, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usagef("no command given")
	}
	name := args[0]
	args = args[1:]
	if name == "help" || name == "-h" || name == "--help" || name == "-help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	if name == "migrate" {
		if len(args) == 0 {
			fmt.Fprint(stderr, usage)
			return usagef("migrate needs a subcommand: up, down, status, force or create")
		}
		name, args = "migrate "+args[0], args[1:]
	}
	cmd, ok := commands()[name]
	if !ok {
		if name == "migrate -h" || name == "migrate --help" || name == "migrate -help" {
			fmt.Fprint(stdout, usage)
			return nil
		}
		fmt.Fprint(stderr, usage)
		return usagef("unknown command %q", name)
	}

	// A command without flags takes a negative number as its argument,
	// not as an unknown flag.
	if cmd.flags == nil && len(args) == 1 && integer.MatchString(args[0]) {
		args = []string{"--", args[0]}
	}
	fs := flag.NewFlagSet("admin "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: admin %s %s\n\n%s\n", name, cmd.args, cmd.help)
		fs.PrintDefaults()
	}
	if cmd.flags != nil {
		cmd.flags(fs)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usagef("%v", err)
	}
	return cmd.run(e, fs)
}

// integer matches a whole number, negative included.
var integer = regexp.MustCompile(`^-?[0-9]+$`)

// commands lists every command by name.
func commands() map[string]command {
	var (
		dir    string
		shared bool
	)
	return map[string]command{
		"migrate up": {
			help: "Applies every pending migration: the service's, from the migrations directory,\nthen River's, from River's own migrator. Any number at once are safe, the\nprocesses of the embedded mode included: one applies, the others wait up to\nMIGRATION_LOCK_TIMEOUT for it, then find nothing to do.",
			run:  noArgs(migrateUp),
		},
		"migrate down": {
			args: "N",
			help: "Rolls back the last N of the service's migrations (N at least 1). An N larger\nthan the number applied is refused before anything is rolled back. Data in\ndropped tables is lost. River's tables stay: River's own CLI rolls them back.",
			run:  migrateDown,
		},
		"migrate status": {
			help: "Shows the schema version, the migrations not yet applied, and whether a failed\nmigration left the database dirty, with the steps to recover; then River's\nversion and its versions not yet applied. Exits 1 when dirty.",
			run:  noArgs(migrateStatus),
		},
		"migrate force": {
			args: "V",
			help: "Records version V of the service's migrations as applied and clears the dirty\nflag, running nothing. Only for recovering from a failed migration, as\n\"migrate status\" explains. V is a version a migration has, or none (also\nwritten -1) to record that no migration is applied; any other V is refused\nbefore anything changes.",
			run:  migrateForce,
		},
		"migrate create": {
			args: "NAME",
			help: "Writes the next-numbered empty up and down files named NAME (lowercase\nsnake_case) into each dialect directory of the migrations directory, or\nwith -shared into shared/, for SQL that every dialect runs as it is.",
			flags: func(fs *flag.FlagSet) {
				fs.StringVar(&dir, "dir", "migrations", "the migrations directory")
				fs.BoolVar(&shared, "shared", false, "write one pair into shared/ instead of one per dialect")
			},
			run: func(e env, fs *flag.FlagSet) error { return migrateCreate(e, fs, dir, shared) },
		},
		"config": {
			help: "Prints every setting with its effective value, one NAME=value per line.\nSecrets, and passwords inside URLs, are masked.",
			run:  noArgs(printConfig),
		},
		"check": {
			help: "Pings each configured backing service once and prints its state. Exits 1 when\none is down, Redis included.",
			run:  noArgs(check),
		},
		"version": {
			help: "Prints the build's module version, VCS revision and Go version.",
			run:  noArgs(version),
		},
	}
}

func noArgs(fn func(e env) error) func(env, *flag.FlagSet) error {
	return func(e env, fs *flag.FlagSet) error {
		if fs.NArg() > 0 {
			return usagef("unexpected arguments %q", fs.Args())
		}
		return fn(e)
	}
}

// load reads the configuration and builds the progress logger.
func (e env) load() (config.Config, *slog.Logger, func() error, error) {
	cfg, err := config.Load(e.lookupEnv)
	if err != nil {
		return config.Config{}, nil, nil, err
	}
	lc := cfg.Log
	lc.FlushInterval = 0 // a one-off process: every line at once
	log, flush := logging.New(e.stderr, lc)
	return cfg, log, flush, nil
}

// migrator opens the configured database for migrating.
func (e env) migrator() (*schema.Migrator, config.Config, func(), error) {
	cfg, log, flush, err := e.load()
	if err != nil {
		return nil, cfg, nil, err
	}
	if cfg.Database.Embedded() {
		fmt.Fprintf(e.stdout, "embedded mode: no DATABASE_URL; using %s\n", database.Path(cfg.Database))
	}
	m, err := database.OpenMigrator(e.ctx, cfg.Database, log)
	if err != nil {
		_ = flush() // the error below is what matters
		return nil, cfg, nil, fmt.Errorf("open database: %w", err)
	}
	// The command's own result is what it reports; a failure to close the
	// migration connection afterwards changes nothing it did.
	return m, cfg, func() { _ = errors.Join(m.Close(), flush()) }, nil
}

func migrateUp(e env) error {
	m, _, done, err := e.migrator()
	if err != nil {
		return err
	}
	defer done()
	start := time.Now()
	res, err := m.Up(e.ctx)
	if err != nil {
		return err
	}
	took := time.Since(start).Round(time.Millisecond)
	if res.Applied == 0 {
		fmt.Fprintf(e.stdout, "no change: the schema is at version %d\n", res.To)
	} else {
		fmt.Fprintf(e.stdout, "migrated from version %d to %d (%d applied in %s)\n", res.From, res.To, res.Applied, took)
	}
	r := res.River
	if r.Recorded > 0 {
		fmt.Fprintf(e.stdout, "river: recorded versions 1 to %d, which an earlier release's migration files applied\n", r.Recorded)
	}
	if r.Applied == 0 {
		fmt.Fprintf(e.stdout, "river: no change: River's schema is at version %d\n", r.To)
	} else {
		fmt.Fprintf(e.stdout, "river: migrated from version %d to %d (%d applied)\n", r.From, r.To, r.Applied)
	}
	return nil
}

func migrateDown(e env, fs *flag.FlagSet) error {
	if fs.NArg() != 1 {
		return usagef("migrate down needs N, the number of migrations to roll back")
	}
	n, err := strconv.Atoi(fs.Arg(0))
	if err != nil || n < 1 {
		return usagef("migrate down: N must be a whole number of at least 1")
	}
	m, _, done, err := e.migrator()
	if err != nil {
		return err
	}
	defer done()
	if err := m.Down(e.ctx, n); err != nil {
		return err
	}
	s, err := m.Status(e.ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "rolled back %d; the schema is at version %d\n", n, s.Version)
	return nil
}

func migrateStatus(e env) error {
	m, cfg, done, err := e.migrator()
	if err != nil {
		return err
	}
	defer done()
	s, err := m.Status(e.ctx)
	if err != nil {
		return err
	}
	_, dialect, _ := database.Migrations(cfg.Database)
	fmt.Fprintf(e.stdout, "database: %s\nversion:  %d\nlatest:   %d\n", dialect, s.Version, s.Latest)
	if len(s.Pending) == 0 {
		fmt.Fprintln(e.stdout, "pending:  none")
	}
	for i, p := range s.Pending {
		label := "          "
		if i == 0 {
			label = "pending:  "
		}
		fmt.Fprintf(e.stdout, "%s%06d_%s\n", label, p.Version, p.Title)
	}
	switch {
	case s.Dirty && s.Running:
		fmt.Fprintf(e.stdout, "dirty:    yes, while migration %d is being applied by another migrator\n", s.Version)
	case s.Dirty:
		fmt.Fprintln(e.stdout, "dirty:    yes")
	default:
		fmt.Fprintln(e.stdout, "dirty:    no")
	}
	printRiverStatus(e.stdout, s.River)
	if s.Dirty && !s.Running {
		fmt.Fprintf(e.stdout, "\n%v\n", s.DirtyError())
		return fmt.Errorf("%w at version %d", schema.ErrDirty, s.Version)
	}
	return nil
}

// printRiverStatus prints River's part of migrate status.
func printRiverStatus(w io.Writer, r schema.RiverStatus) {
	pending := "none"
	if len(r.Pending) > 0 {
		pending = strings.Trim(fmt.Sprint(r.Pending), "[]")
	}
	fmt.Fprintf(w, "river:    version %d, latest %d, pending %s\n", r.Version, r.Latest, pending)
	if r.Unrecorded > 0 {
		fmt.Fprintf(w, "          versions 1 to %d were applied by an earlier release's migration files;\n          admin migrate up records them\n", r.Unrecorded)
	}
}

func migrateForce(e env, fs *flag.FlagSet) error {
	if fs.NArg() != 1 {
		return usagef("migrate force needs V, the version to record, or none")
	}
	v := schema.None
	if arg := fs.Arg(0); arg != "none" {
		n, err := strconv.Atoi(arg)
		if err != nil {
			return usagef("migrate force: V must be a version number, or none")
		}
		v = n
	}
	m, _, done, err := e.migrator()
	if err != nil {
		return err
	}
	defer done()
	if err := m.Force(e.ctx, v); err != nil {
		return err
	}
	if v == schema.None {
		fmt.Fprintln(e.stdout, "recorded that no migration is applied; the dirty flag is clear")
		return nil
	}
	fmt.Fprintf(e.stdout, "recorded version %d as applied; the dirty flag is clear\n", v)
	return nil
}

// migrationName is the title part of a migration file name.
var migrationName = regexp.MustCompile(`^[a-z0-9]+(_[a-z0-9]+)*$`)

func migrateCreate(e env, fs *flag.FlagSet, dir string, shared bool) error {
	if fs.NArg() != 1 {
		return usagef("migrate create needs NAME, such as add_links_owner")
	}
	name := fs.Arg(0)
	if !migrationName.MatchString(name) {
		return usagef("migrate create: NAME must be lowercase letters, digits and single underscores, such as add_links_owner")
	}
	next := uint(1)
	for _, d := range migrations.Dialects() {
		all, err := migrations.Overlay(os.DirFS(dir), d)
		if err != nil {
			return fmt.Errorf("migrate create: %w", err)
		}
		latest, err := migrations.Latest(all)
		if err != nil {
			return fmt.Errorf("migrate create: %s: %w", filepath.Join(dir, d), err)
		}
		next = max(next, latest+1)
	}
	if next >= migrations.RetiredFirst && next <= migrations.RetiredLast {
		next = migrations.RetiredLast + 1
	}
	dirs, advice := migrations.Dialects(), "Write both dialects"
	if shared {
		dirs, advice = []string{migrations.Shared}, "Write SQL that every dialect runs"
		if err := os.MkdirAll(filepath.Join(dir, migrations.Shared), 0o755); err != nil { //nolint:gosec // a source directory of the team's repository
			return fmt.Errorf("migrate create: %w", err)
		}
	}
	var created []string
	for _, d := range dirs {
		for _, way := range []string{"up", "down"} {
			path := filepath.Join(dir, d, fmt.Sprintf("%06d_%s.%s.sql", next, name, way))
			body := fmt.Sprintf("-- %s migration %06d (%s): %s.\n", strings.ToUpper(way[:1])+way[1:], next, d, name)
			if err := writeNew(path, body); err != nil {
				return fmt.Errorf("migrate create: %w", err)
			}
			created = append(created, path)
		}
	}
	fmt.Fprintf(e.stdout, "created:\n  %s\n%s; each file runs in one transaction.\n", strings.Join(created, "\n  "), advice)
	return nil
}

// writeNew writes a file that must not exist yet.
func writeNew(path, body string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644) //nolint:gosec // a source file for the team's repository, not a secret
	if err != nil {
		return err
	}
	_, err = io.WriteString(f, body)
	return errors.Join(err, f.Close())
}

func printConfig(e env) error {
	cfg, err := config.Load(e.lookupEnv)
	if err != nil {
		return err
	}
	for _, s := range config.Effective(&cfg) {
		fmt.Fprintf(e.stdout, "%s=%s\n", s.Name, s.Value)
	}
	return nil
}

func check(e env) error {
	cfg, log, flush, err := e.load()
	if err != nil {
		return err
	}
	defer func() { _ = flush() }() // a failed last write to stderr has nowhere to go
	ctx, cancel := context.WithTimeout(e.ctx, cfg.Database.ConnectTimeout+cfg.Ready.Timeout)
	defer cancel()
	var down []string

	dbCfg := cfg.Database
	dbCfg.ConnectAttempts = 1 // report the state now, do not wait for it to change
	name := "postgres"
	if dbCfg.Embedded() {
		name = "sqlite (embedded mode: " + database.Path(dbCfg) + ")"
	}
	db, err := database.Open(ctx, dbCfg, log, nil)
	if err == nil {
		err = db.Ping(ctx)
		db.Close()
	}
	down = report(e.stdout, name, err, down)

	if cfg.Redis.URL.IsSet() {
		rdb, err := redis.Open(cfg.Redis.URL, cfg.Redis.TLSSkipVerify, nil)
		if err == nil {
			err = rdb.Ping(ctx)
			rdb.Close()
		}
		down = report(e.stdout, "redis", err, down)
	} else {
		fmt.Fprintln(e.stdout, "redis: not configured (in-process fallback)")
	}
	if len(down) > 0 {
		return fmt.Errorf("backing service down: %s", strings.Join(down, ", "))
	}
	return nil
}

func report(w io.Writer, name string, err error, down []string) []string {
	if err != nil {
		fmt.Fprintf(w, "%s: down: %v\n", name, err)
		return append(down, strings.Fields(name)[0])
	}
	fmt.Fprintf(w, "%s: ok\n", name)
	return down
}

func version(e env) error {
	b := buildinfo.Read()
	fmt.Fprintf(e.stdout, "module:   %s\nversion:  %s\nrevision: %s\ngo:       %s\n", b.Module, b.Version, b.Revision, b.GoVersion)
	return nil
}
