package linkconfig_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/dozen-go/dozen/internal/config"
	"github.com/dozen-go/dozen/internal/links/linkconfig"
)

// env returns a lookup function over m, as config.Load takes it.
func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// TestAPITokens loads API_TOKENS as config.Load does: tokens are
// trimmed, and a short or empty one is refused by its position.
func TestAPITokens(t *testing.T) {
	const (
		good  = "good-token-0123456789"
		other = "other-token-0123456789"
		short = "shortsecret"
	)
	tests := []struct {
		name       string
		value      string
		want       linkconfig.Tokens
		wantReason string // the one API_TOKENS problem, "" for none
	}{
		{"one", good, linkconfig.Tokens{good}, ""},
		{"spaces after commas", good + ", " + other + " ", linkconfig.Tokens{good, other}, ""},
		{"a short entry", good + "," + short, nil, "entry 2 of 2 must be a token of at least 16 characters"},
		{"several bad entries", short + ",," + good + ", ", nil, "entries 1, 2, 4 of 4 must be a token of at least 16 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.Load(env(map[string]string{"API_TOKENS": tt.value}))
			if tt.wantReason == "" {
				if err != nil {
					t.Fatalf("Load(API_TOKENS=%q) = %v", tt.value, err)
				}
				if !slices.Equal(c.Links.APITokens, tt.want) {
					t.Errorf("APITokens = %d tokens, want %d (values masked: %v, want %v)", len(c.Links.APITokens), len(tt.want), c.Links.APITokens, tt.want)
				}
				return
			}
			var cerr *config.Error
			if !errors.As(err, &cerr) {
				t.Fatalf("Load(API_TOKENS=%q) error = %v, want *config.Error", tt.value, err)
			}
			if len(cerr.Problems) != 1 || cerr.Problems[0].Var != "API_TOKENS" ||
				!strings.Contains(cerr.Problems[0].Reason, tt.wantReason) {
				t.Errorf("Load(API_TOKENS=%q) problems = %+v, want one API_TOKENS problem saying %q", tt.value, cerr.Problems, tt.wantReason)
			}
			if strings.Contains(err.Error(), short) {
				t.Errorf("Load() error = %q, shows a token", err)
			}
		})
	}
}

// TestLoadRefusesEdgeValues loads values out of range: each is refused
// by name, without showing the value. A page size whose page (and one row
// more) could never be held is among them.
func TestLoadRefusesEdgeValues(t *testing.T) {
	for name, value := range map[string]string{
		"MAX_PAGE_SIZE":        "9223372036854775807",
		"CREATE_RATE_LIMIT":    "0",
		"RATE_LIMIT_WINDOW":    "10ms",
		"LINK_CACHE_TTL":       "0s",
		"CLICK_FLUSH_INTERVAL": "-1s",
	} {
		_, err := config.Load(env(map[string]string{name: value, "DATA_DIR": t.TempDir()}))
		var cerr *config.Error
		if !errors.As(err, &cerr) || len(cerr.Problems) != 1 || cerr.Problems[0].Var != name {
			t.Errorf("Load(%s=%s) = %v, want one problem naming %s", name, value, err, name)
		}
		if err != nil && strings.Contains(err.Error(), value) {
			t.Errorf("Load(%s=%s) error %q shows the value", name, value, err)
		}
	}
}
