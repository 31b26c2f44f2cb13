package tf

import (
	"bytes"
	"path"
	"strings"
)

// Suppression is one twelvefactor:ignore comment.
type Suppression struct {
	// File is the slash-separated path relative to the repository root.
	File string
	// Line is the comment's line; Target is the line it covers: the same
	// line for a trailing comment, the next line for a comment on its own.
	Line, Target int
	// Rules are the rule IDs named by the comment.
	Rules []string
	// Reason is the text after the IDs; a suppression without one does not
	// take effect.
	Reason string
}

// ignoreMarker starts a suppression inside a comment.
const ignoreMarker = "twelvefactor:ignore"

// ParseSuppressions finds the suppression comments in a file's content. Go
// files use //twelvefactor:ignore ID reason; YAML, Dockerfiles, Procfiles,
// shell and env files use # twelvefactor:ignore ID reason. Several IDs may be
// separated by commas.
func ParseSuppressions(file string, content []byte) []Suppression {
	if !bytes.Contains(content, []byte(ignoreMarker)) {
		return nil
	}
	prefix := commentPrefix(file)
	if prefix == "" {
		return nil
	}
	var sups []Suppression
	lines := strings.Split(string(content), "\n")
	for i, line := range lines {
		at := strings.Index(line, ignoreMarker)
		if at < 0 {
			continue
		}
		before := strings.TrimRight(line[:at], " \t")
		head, ok := strings.CutSuffix(before, prefix)
		if !ok || strings.Contains(strings.ReplaceAll(head, "://", ""), prefix) {
			continue // not a comment, or inside the text of another one
		}
		s := Suppression{File: file, Line: i + 1, Target: i + 1}
		if strings.TrimSpace(head) == "" {
			// A comment on its own line covers the next line, past any
			// other suppressions stacked on it.
			s.Target = i + 2
			for j := i + 1; j < len(lines) && strings.Contains(lines[j], ignoreMarker); j++ {
				s.Target = j + 2
			}
		}
		rest := strings.TrimSpace(line[at+len(ignoreMarker):])
		if strings.HasPrefix(rest, "-") || strings.HasPrefix(rest, ":") {
			continue // some other directive, e.g. twelvefactor:ignore-file
		}
		ids, reason, _ := strings.Cut(rest, " ")
		for id := range strings.SplitSeq(ids, ",") {
			if id != "" {
				s.Rules = append(s.Rules, id)
			}
		}
		s.Reason = strings.TrimSpace(reason)
		sups = append(sups, s)
	}
	return sups
}

// covers reports whether the suppression applies to the finding.
func (s Suppression) covers(f Finding) bool {
	if s.Reason == "" || f.File != s.File || f.Line != s.Target || f.Rule == "L1" {
		return false
	}
	for _, id := range s.Rules {
		if id == f.Rule {
			return true
		}
	}
	return false
}

// suppressionFindings reports suppressions without a reason or naming an
// unknown rule (rule L1).
func suppressionFindings(sups []Suppression) []Finding {
	var fs []Finding
	for _, s := range sups {
		f := Finding{Rule: "L1", File: s.File, Line: s.Line}
		switch {
		case len(s.Rules) == 0:
			f.Message = "twelvefactor:ignore names no rule"
			fs = append(fs, f)
			continue
		case s.Reason == "":
			f.Message = "twelvefactor:ignore " + strings.Join(s.Rules, ",") + " gives no reason, so it suppresses nothing"
			fs = append(fs, f)
		}
		for _, id := range s.Rules {
			if _, ok := Lookup(id); !ok {
				f.Message = "twelvefactor:ignore names unknown rule " + id
				fs = append(fs, f)
			}
		}
	}
	return fs
}

// commentPrefix returns the line comment syntax of the file types that take
// suppressions, or "" for other files.
func commentPrefix(file string) string {
	base := strings.ToLower(path.Base(file))
	switch ext := path.Ext(base); {
	case ext == ".go", base == "go.mod":
		return "//"
	case ext == ".yaml", ext == ".yml", ext == ".sh", ext == ".bash", ext == ".toml",
		base == "procfile", base == "dockerfile", strings.HasPrefix(base, "dockerfile."),
		ext == ".dockerfile", strings.HasPrefix(base, ".env"), base == "makefile":
		return "#"
	}
	return ""
}
