package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	tf "github.com/dozen-go/dozen/twelvefactor/internal/tf"
	"github.com/dozen-go/dozen/twelvefactor/internal/tf/checklist"
)

// errThreshold is returned when a finding reaches the -fail-on severity.
var errThreshold = errors.New("findings reach the failure threshold")

// errSkipped is returned when a rule family could not run and was not
// left out with -skip: a run without it would pass for the wrong reason.
var errSkipped = errors.New("incomplete run")

// errFlags wraps flag parse errors, which the flag package has already
// printed with the usage.
var errFlags = errors.New("bad flags")

// run parses the arguments, checks the repository and writes the report.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("twelvefactor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "text", "output `format`: text, json or sarif")
	failOn := fs.String("fail-on", "error", "exit 1 when a finding has at least this `severity`: error, warning, info or never")
	color := fs.String("color", "auto", "colour the text checklist: auto (on a terminal), always or never")
	verbose := fs.Bool("v", false, "also say why each failing rule matters")
	list := fs.Bool("rules", false, "list the rules and exit")
	loadTimeout := fs.Duration("load-timeout", checklist.DefaultLoadTimeout, "give up loading a module's Go packages after this `duration`")
	skip := fs.String("skip", "", "leave out these rule `families` on purpose (code: the Go code rules); without it a family that cannot run fails the run")
	quiet := fs.Bool("q", false, "no progress lines on stderr")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: twelvefactor [flags] [dir]\n\nChecks the Go service repository in dir (default .) against the twelve factors.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %w", errFlags, err)
	}
	if fs.NArg() > 1 {
		fs.Usage()
		return errors.New("want at most one directory")
	}
	threshold := tf.Off
	if *failOn != "never" {
		sev, err := tf.ParseSeverity(*failOn)
		if err != nil || sev == tf.Off {
			return fmt.Errorf("-fail-on: want error, warning, info or never, not %q", *failOn)
		}
		threshold = sev
	}
	if *list {
		return writeRules(stdout)
	}
	write, err := writer(*format, *color, *verbose, stdout)
	if err != nil {
		return err
	}
	dir := "."
	if fs.NArg() == 1 {
		// An empty argument is a script's unset variable, not a request
		// to check the current directory.
		if dir = fs.Arg(0); dir == "" {
			return errors.New("the directory argument is empty; name a directory or leave the argument out")
		}
	}
	opts := checklist.Options{LoadTimeout: *loadTimeout}
	for f := range strings.SplitSeq(*skip, ",") {
		switch strings.TrimSpace(f) {
		case "":
		case "code":
			opts.SkipCode = true
		default:
			return fmt.Errorf("-skip: want code, not %q", f)
		}
	}
	if !*quiet {
		opts.Progress = stderr
	}
	rep, err := checklist.Run(ctx, dir, opts)
	if err != nil {
		return err
	}
	if err := write(rep); err != nil {
		return err
	}
	if len(rep.Skipped) > 0 {
		return fmt.Errorf("%w: Go code rules did not run for %s; warm the module cache (go mod download), raise -load-timeout, or pass -skip code to accept a run without them",
			errSkipped, strings.Join(rep.Skipped, "; "))
	}
	if rep.Reaches(threshold) {
		return errThreshold
	}
	return nil
}

// writer returns the function that writes a report in the format.
func writer(format, color string, verbose bool, w io.Writer) (func(*tf.Report) error, error) {
	switch format {
	case "json":
		return func(r *tf.Report) error { return r.WriteJSON(w) }, nil
	case "sarif":
		return func(r *tf.Report) error { return r.WriteSARIF(w) }, nil
	case "text":
	default:
		return nil, fmt.Errorf("-format: want text, json or sarif, not %q", format)
	}
	opts := tf.TextOptions{Verbose: verbose}
	switch color {
	case "always":
		opts.Color = true
	case "auto":
		opts.Color = isTerminal(w)
	case "never":
	default:
		return nil, fmt.Errorf("-color: want auto, always or never, not %q", color)
	}
	return func(r *tf.Report) error { return r.WriteText(w, opts) }, nil
}

// isTerminal reports whether w is a character device such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// writeRules prints the rule table.
func writeRules(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tFACTOR\tSEVERITY\tTITLE")
	for _, r := range tf.Rules() {
		f := tf.FactorOf(r.Factor)
		fmt.Fprintf(tw, "%s\t%s. %s\t%s\t%s\n", r.ID, f.Numeral, f.Name, r.Severity, r.Title)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write rules: %w", err)
	}
	return nil
}
