// Package golangciplugin registers twelvefactor's Go code rules as a
// golangci-lint v2 module plugin named "twelvefactor". Build a
// golangci-lint that includes it with golangci-lint custom and a
// .custom-gcl.yml such as
//
//	version: v2.15.0
//	plugins:
//	  - module: github.com/dozen-go/dozen/twelvefactor
//	    import: github.com/dozen-go/dozen/twelvefactor/golangciplugin
//	    version: v0.1.0
//
// then enable it in .golangci.yml:
//
//	linters:
//	  enable: [twelvefactor]
//	  settings:
//	    custom:
//	      twelvefactor:
//	        type: module
//	        settings:
//	          rules: [IX1, IX2, VII1]   # optional; every rule when empty
//
// See package analyzers for what a per-package driver cannot know.
package golangciplugin

import (
	"fmt"

	"github.com/golangci/plugin-module-register/register"
	"golang.org/x/tools/go/analysis"

	"github.com/dozen-go/dozen/twelvefactor/analyzers"
)

func init() {
	register.Plugin("twelvefactor", New)
}

// Settings are the plugin's settings in .golangci.yml.
type Settings struct {
	// Rules are the IDs (IX1) or analyzer names (signals) to run; empty
	// means every rule.
	Rules []string `json:"rules"`
}

// Plugin is the twelvefactor linter for golangci-lint.
type Plugin struct {
	analyzers []*analysis.Analyzer
}

// New builds the plugin from its settings. An unknown rule is an error
// that names it.
func New(settings any) (register.LinterPlugin, error) {
	s, err := register.DecodeSettings[Settings](settings)
	if err != nil {
		return nil, fmt.Errorf("twelvefactor settings: %w", err)
	}
	if len(s.Rules) == 0 {
		return &Plugin{analyzers: analyzers.All()}, nil
	}
	p := &Plugin{}
	for _, r := range s.Rules {
		a := analyzers.Lookup(r)
		if a == nil {
			return nil, fmt.Errorf("twelvefactor settings: rules: %q is not a code rule (see twelvefactor -rules; file rules need the twelvefactor command)", r)
		}
		p.analyzers = append(p.analyzers, a)
	}
	return p, nil
}

// BuildAnalyzers returns the analyzers to run.
func (p *Plugin) BuildAnalyzers() ([]*analysis.Analyzer, error) {
	return p.analyzers, nil
}

// GetLoadMode says the analyzers need type information.
func (p *Plugin) GetLoadMode() string {
	return register.LoadModeTypesInfo
}
