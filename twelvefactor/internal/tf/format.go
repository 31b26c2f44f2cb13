package tf

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// TextOptions controls the human checklist.
type TextOptions struct {
	// Color adds ANSI colours; set it only when writing to a terminal.
	Color bool
	// Verbose also prints why each failing rule matters.
	Verbose bool
}

// ANSI colours for the statuses.
var statusColor = map[Status]string{
	Pass:          "\x1b[32m",
	Fail:          "\x1b[31m",
	Warn:          "\x1b[33m",
	Note:          "\x1b[36m",
	NotApplicable: "\x1b[2m",
	Disabled:      "\x1b[2m",
}

// WriteText writes the checklist grouped by factor.
func (r *Report) WriteText(w io.Writer, opts TextOptions) error {
	p := &printer{w: w}
	for _, n := range r.Notes {
		p.printf("note: %s\n", Printable(n))
	}
	if len(r.Notes) > 0 {
		p.printf("\n")
	}
	for _, fac := range Factors {
		var outs []Outcome
		for _, o := range r.Outcomes {
			if o.Rule.Factor == fac.Numeral {
				outs = append(outs, o)
			}
		}
		if len(outs) == 0 {
			continue
		}
		p.printf("%s. %s\n", fac.Numeral, fac.Name)
		for _, o := range outs {
			status := fmt.Sprintf("%-4s", o.Status)
			if opts.Color {
				status = statusColor[o.Status] + status + "\x1b[0m"
			}
			line := fmt.Sprintf("  %s  %-5s %s", status, o.Rule.ID, o.Rule.Title)
			if o.Reason != "" {
				line += " (" + Printable(o.Reason) + ")"
			}
			p.printf("%s\n", strings.TrimRight(line, " "))
			active, _ := o.Counts()
			for _, f := range o.Findings {
				if f.Suppressed {
					continue
				}
				p.printf("        %s: %s\n", Printable(f.Location()), Printable(f.Message))
			}
			if active > 0 {
				if opts.Verbose {
					p.printf("        why: %s\n", o.Rule.Why)
				}
				p.printf("        fix: %s\n", o.Rule.Fix)
			}
			for _, f := range o.Findings {
				if f.Suppressed {
					p.printf("        suppressed %s: %s (%s)\n", Printable(f.Location()), Printable(f.Message), Printable(f.Reason))
				}
			}
		}
		p.printf("\n")
	}
	s := r.Summary()
	p.printf("%d rules: %d pass, %d fail, %d warn, %d info, %d n/a, %d off; findings: %d active, %d suppressed\n",
		s.Rules, s.ByStatus[Pass], s.ByStatus[Fail], s.ByStatus[Warn], s.ByStatus[Note],
		s.ByStatus[NotApplicable], s.ByStatus[Disabled], s.Findings, s.Suppressed)
	return p.err
}

// Printable escapes the control characters of text taken from the
// repository (file names, manifest names, reasons), so that a name holding
// terminal escape sequences or bidirectional overrides is shown, not
// obeyed: ESC becomes \x1b, a newline \n.
func Printable(s string) string {
	if !strings.ContainsFunc(s, unprintable) && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			fmt.Fprintf(&b, "\\x%02x", s[i])
		case r == '\n':
			b.WriteString("\\n")
		case r == '\t':
			b.WriteString("\\t")
		case r < 0x100 && unprintable(r):
			fmt.Fprintf(&b, "\\x%02x", r)
		case unprintable(r):
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// unprintable reports whether a rune is a control character (C0, DEL, C1)
// or a bidirectional formatting character.
func unprintable(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)
}

// printer remembers the first write error.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

// jsonReport is the shape of -format json.
type jsonReport struct {
	Version int          `json:"version"`
	Summary Summary      `json:"summary"`
	Notes   []string     `json:"notes"`
	Skipped []string     `json:"skipped,omitempty"`
	Rules   []jsonOutput `json:"rules"`
}

type jsonOutput struct {
	ID       string    `json:"id"`
	Factor   string    `json:"factor"`
	Severity Severity  `json:"severity"`
	Title    string    `json:"title"`
	Why      string    `json:"why"`
	Fix      string    `json:"fix"`
	Status   Status    `json:"status"`
	Reason   string    `json:"reason,omitempty"`
	Findings []Finding `json:"findings"`
}

// WriteJSON writes the report as one JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	out := jsonReport{Version: 1, Summary: r.Summary(), Notes: r.Notes, Skipped: r.Skipped}
	if out.Notes == nil {
		out.Notes = []string{}
	}
	for _, o := range r.Outcomes {
		fs := o.Findings
		if fs == nil {
			fs = []Finding{}
		}
		out.Rules = append(out.Rules, jsonOutput{
			ID: o.Rule.ID, Factor: o.Rule.Factor, Severity: o.Rule.Severity,
			Title: o.Rule.Title, Why: o.Rule.Why, Fix: o.Rule.Fix,
			Status: o.Status, Reason: o.Reason, Findings: fs,
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}
