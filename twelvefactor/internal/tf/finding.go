package tf

import (
	"cmp"
	"fmt"
	"slices"
)

// Finding is one place where a rule is not met.
type Finding struct {
	// Rule is the ID of the rule that produced the finding.
	Rule string `json:"rule"`
	// Severity is the rule's effective severity, after the config file.
	Severity Severity `json:"severity"`
	// File is the slash-separated path relative to the repository root;
	// empty when the finding is about the repository as a whole.
	File string `json:"file,omitempty"`
	// Line and Column are 1-based; zero when unknown.
	Line   int `json:"line,omitempty"`
	Column int `json:"column,omitempty"`
	// Message says what is wrong at this place.
	Message string `json:"message"`
	// Suppressed is set when a twelvefactor:ignore comment covers the
	// finding; Reason is the comment's reason.
	Suppressed bool   `json:"suppressed,omitempty"`
	Reason     string `json:"reason,omitempty"`
	// Hardening marks a finding that is advice rather than a broken
	// factor (a liveness probe that is missing beside a readiness
	// probe): it is reported at info whatever the rule's severity.
	Hardening bool `json:"-"`
}

// Location returns "file:line:col", "file:line", "file" or "(repository)".
func (f Finding) Location() string {
	switch {
	case f.File == "":
		return "(repository)"
	case f.Line == 0:
		return f.File
	case f.Column == 0:
		return fmt.Sprintf("%s:%d", f.File, f.Line)
	}
	return fmt.Sprintf("%s:%d:%d", f.File, f.Line, f.Column)
}

// Collector gathers the findings of the checks, and which rules did not
// apply to the repository. It is not safe for concurrent use.
type Collector struct {
	findings []Finding
	na       map[string]string
	notes    []string
}

// Notef records a note about something the checks could not read, such as
// a Dockerfile that does not parse.
func (c *Collector) Notef(format string, args ...any) {
	c.notes = append(c.notes, fmt.Sprintf(format, args...))
}

// Add records a finding.
func (c *Collector) Add(f Finding) { c.findings = append(c.findings, f) }

// Addf records a finding with a formatted message.
func (c *Collector) Addf(rule, file string, line int, format string, args ...any) {
	c.Add(Finding{Rule: rule, File: file, Line: line, Message: fmt.Sprintf(format, args...)})
}

// NotApplicable records that the rules do not apply, and why (e.g. "no
// Dockerfile"). The first reason recorded for a rule wins.
func (c *Collector) NotApplicable(reason string, ids ...string) {
	if c.na == nil {
		c.na = make(map[string]string)
	}
	for _, id := range ids {
		if _, ok := c.na[id]; !ok {
			c.na[id] = reason
		}
	}
}

// Findings returns the findings recorded so far.
func (c *Collector) Findings() []Finding { return c.findings }

// Status is the checklist state of one rule.
type Status string

// Statuses, as printed.
const (
	Pass          Status = "pass"
	Fail          Status = "fail"
	Warn          Status = "warn"
	Note          Status = "info"
	NotApplicable Status = "n/a"
	Disabled      Status = "off"
)

// Outcome is one line of the checklist: a rule and what became of it.
type Outcome struct {
	// Rule is the rule, with its effective severity.
	Rule Rule
	// Status is the rule's checklist state.
	Status Status
	// Reason says why the rule is n/a or off.
	Reason string
	// Findings are the rule's findings, active and suppressed, in file
	// order.
	Findings []Finding
}

// Counts returns how many of the outcome's findings are active and how many
// are suppressed.
func (o Outcome) Counts() (active, suppressed int) {
	for _, f := range o.Findings {
		if f.Suppressed {
			suppressed++
		} else {
			active++
		}
	}
	return active, suppressed
}

// Report is the result of a run: notes about the run and one outcome per
// rule, in checklist order.
type Report struct {
	// Notes say what the run could not do, e.g. packages that did not
	// compile.
	Notes []string
	// Skipped names the rule families that could not run and were not
	// left out on request, with why ("module .: loading the Go packages
	// took longer than …"). A run with any is incomplete.
	Skipped []string
	// Outcomes has one entry per rule, in checklist order.
	Outcomes []Outcome
}

// BuildReport applies the config and the suppressions to the collected
// findings and computes every rule's status.
func BuildReport(c *Collector, cfg *Config, sups []Suppression, notes []string) *Report {
	if cfg == nil {
		cfg = &Config{}
	}
	rep := &Report{Notes: append(slices.Clone(c.notes), notes...)}
	byRule := make(map[string][]Finding)
	all := append(slices.Clone(c.findings), suppressionFindings(sups)...)
	for _, f := range all {
		if cfg.excluded(f.File) {
			continue
		}
		f.Suppressed, f.Reason = false, ""
		for _, s := range sups {
			if s.covers(f) {
				f.Suppressed, f.Reason = true, s.Reason
				break
			}
		}
		for _, ig := range cfg.Ignore {
			if !f.Suppressed && ig.covers(f) {
				f.Suppressed, f.Reason = true, ig.Reason
			}
		}
		byRule[f.Rule] = append(byRule[f.Rule], f)
	}
	for _, r := range rules {
		rc, configured := cfg.Rules[r.ID]
		if configured {
			r.Severity = rc.severity
		}
		o := Outcome{Rule: r}
		fs := byRule[r.ID]
		slices.SortStableFunc(fs, func(a, b Finding) int {
			return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
		})
		fs = slices.Compact(fs)
		worst := Off // the highest severity of an active finding
		for i := range fs {
			fs[i].Severity = r.Severity
			if fs[i].Hardening && r.Severity > Info {
				fs[i].Severity = Info
			}
			if !fs[i].Suppressed && fs[i].Severity > worst {
				worst = fs[i].Severity
			}
		}
		o.Findings = fs
		active, _ := o.Counts()
		switch {
		case r.Severity == Off:
			o.Status, o.Reason, o.Findings = Disabled, rc.Reason, nil
		case active > 0:
			o.Status = map[Severity]Status{Error: Fail, Warning: Warn, Info: Note}[worst]
		case len(fs) == 0 && c.na[r.ID] != "":
			o.Status, o.Reason = NotApplicable, c.na[r.ID]
		default:
			o.Status = Pass
		}
		rep.Outcomes = append(rep.Outcomes, o)
	}
	return rep
}

// Summary counts the outcomes by status and the findings by state.
type Summary struct {
	// Rules is the number of rules.
	Rules int `json:"rules"`
	// ByStatus counts the rules by status.
	ByStatus map[Status]int `json:"by_status"`
	// Findings counts the active findings, Suppressed the others.
	Findings   int `json:"findings"`
	Suppressed int `json:"suppressed"`
}

// Summary returns the report's counts.
func (r *Report) Summary() Summary {
	s := Summary{ByStatus: make(map[Status]int)}
	for _, o := range r.Outcomes {
		s.Rules++
		s.ByStatus[o.Status]++
		a, sup := o.Counts()
		s.Findings += a
		s.Suppressed += sup
	}
	return s
}

// Reaches reports whether any active finding has at least the given
// severity. A threshold of Off never reaches.
func (r *Report) Reaches(threshold Severity) bool {
	if threshold == Off {
		return false
	}
	for _, o := range r.Outcomes {
		for _, f := range o.Findings {
			if !f.Suppressed && f.Severity >= threshold {
				return true
			}
		}
	}
	return false
}
