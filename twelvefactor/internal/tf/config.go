package tf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ConfigFile is the name of the optional config file at the repository root.
const ConfigFile = ".twelvefactor.yaml"

// Config is the repository's linter config, read from ConfigFile:
//
//	rules:
//	  XI2: {severity: off, reason: "this repository is a CLI"}
//	  VI1: {severity: info}
//	config-packages: [internal/settings]
//	programs: [cmd/api, cmd/worker]
//	exclude: [tools/demo]
//	ignore:
//	  - {rule: XII2, path: migrations/legacy/*, reason: "applied by hand in 2019"}
type Config struct {
	// Rules changes the severity of rules, or turns them off.
	Rules map[string]RuleConfig `yaml:"rules"`
	// ConfigPackages are import path suffixes of packages that may read
	// the environment (rule III1), in addition to packages ending in
	// /config.
	ConfigPackages []string `yaml:"config-packages"`
	// Programs names the directories of the main packages that are the
	// service, when the checklist's choice (programs that serve and are
	// deployed) is wrong; "..." judges every package as service code.
	Programs []string `yaml:"programs"`
	// Exclude lists paths (path.Match patterns, or directories) that are
	// not part of the service, e.g. a demo; no rule reports on them.
	Exclude []string `yaml:"exclude"`
	// Ignore suppresses findings by rule and path, for files that cannot
	// carry a comment (SQL, JSON) and findings about a whole file.
	Ignore []Ignore `yaml:"ignore"`
}

// Ignore suppresses the findings of one rule in the files matching Path, a
// path.Match pattern relative to the root, or under a directory matching it
// ("" matches findings about the repository as a whole). Reason is
// required.
type Ignore struct {
	// Rule is the ID of the rule whose findings are suppressed.
	Rule string `yaml:"rule"`
	// Path selects the files, relative to the repository root.
	Path string `yaml:"path"`
	// Reason says why; it is reported with the suppressed findings.
	Reason string `yaml:"reason"`
}

// covers reports whether the ignore entry applies to the finding.
func (ig Ignore) covers(f Finding) bool {
	if ig.Rule != f.Rule {
		return false
	}
	return matchPath(ig.Path, f.File)
}

// matchPath reports whether the file, or a directory it is in, matches the
// path.Match pattern.
func matchPath(pattern, file string) bool {
	for p := file; ; p = path.Dir(p) {
		if ok, _ := path.Match(pattern, p); ok {
			return true
		}
		if !strings.Contains(p, "/") {
			return false
		}
	}
}

// excluded reports whether the config excludes the file.
func (c *Config) excluded(file string) bool {
	for _, pat := range c.Exclude {
		if file != "" && matchPath(pat, file) {
			return true
		}
	}
	return false
}

// RuleConfig overrides one rule.
type RuleConfig struct {
	// Severity is error, warning, info or off.
	Severity string `yaml:"severity"`
	// Reason says why; it is shown next to rules turned off.
	Reason string `yaml:"reason"`

	severity Severity
}

// LoadConfig reads ConfigFile from the repository root. A missing file is an
// empty config; an unknown rule, severity or key is an error.
func LoadConfig(root string) (*Config, error) {
	data, err := ReadRegular(filepath.Join(root, ConfigFile), MaxFileSize)
	if errors.Is(err, fs.ErrNotExist) {
		return &Config{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return ParseConfig(data)
}

// ParseConfig decodes and validates a config file's content.
func ParseConfig(data []byte) (*Config, error) {
	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("parse %s: %w", ConfigFile, err)
	}
	for id, rc := range cfg.Rules {
		if _, ok := Lookup(id); !ok {
			return nil, fmt.Errorf("%s: unknown rule %q", ConfigFile, id)
		}
		sev, err := ParseSeverity(rc.Severity)
		if err != nil {
			return nil, fmt.Errorf("%s: rule %s: %w", ConfigFile, id, err)
		}
		rc.severity = sev
		cfg.Rules[id] = rc
	}
	for _, pat := range cfg.Exclude {
		if _, err := path.Match(pat, ""); err != nil {
			return nil, fmt.Errorf("%s: bad exclude pattern %q: %w", ConfigFile, pat, err)
		}
	}
	for i, ig := range cfg.Ignore {
		if _, ok := Lookup(ig.Rule); !ok {
			return nil, fmt.Errorf("%s: ignore %d: unknown rule %q", ConfigFile, i+1, ig.Rule)
		}
		if _, err := path.Match(ig.Path, ""); err != nil {
			return nil, fmt.Errorf("%s: ignore %d: bad path pattern %q: %w", ConfigFile, i+1, ig.Path, err)
		}
		if strings.TrimSpace(ig.Reason) == "" {
			return nil, fmt.Errorf("%s: ignore %d (%s %s): a reason is required", ConfigFile, i+1, ig.Rule, ig.Path)
		}
	}
	return &cfg, nil
}
