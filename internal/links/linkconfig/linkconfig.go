// Package linkconfig holds the link shortener's settings, which
// config.Config nests. They are a package of their own, importing nothing
// of the service's but package secret, so that package config can import
// them and package links can import config.
package linkconfig

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dozen-go/dozen/internal/secret"
)

// Config configures the link shortener.
type Config struct {
	// APITokens may create and delete links. Unset, writes are refused.
	APITokens          Tokens        `envconfig:"API_TOKENS" desc:"comma-separated bearer tokens allowed to create and delete links; unset refuses every write"`
	CreateRateLimit    int           `envconfig:"CREATE_RATE_LIMIT" default:"60" desc:"authenticated link creations allowed per client per RATE_LIMIT_WINDOW"`
	RateLimitWindow    time.Duration `envconfig:"RATE_LIMIT_WINDOW" default:"1m" desc:"window of the sliding-window rate limit"`
	CacheTTL           time.Duration `envconfig:"LINK_CACHE_TTL" default:"5m" desc:"how long a link stays in the redirect cache"`
	ClickFlushInterval time.Duration `envconfig:"CLICK_FLUSH_INTERVAL" default:"1s" desc:"how often counted redirects are written; a crash loses at most this much"`
	MaxPageSize        int           `envconfig:"MAX_PAGE_SIZE" default:"100" desc:"largest page of links a list request may ask for, at most 10000"`
}

// Check reports each setting out of range to problem, by its variable's
// name; config.Load calls it.
func (c Config) Check(problem func(name, reason string)) {
	check := func(ok bool, name, reason string) {
		if !ok {
			problem(name, reason)
		}
	}
	check(c.CreateRateLimit >= 1, "CREATE_RATE_LIMIT", "must be at least 1")
	check(c.RateLimitWindow >= time.Second, "RATE_LIMIT_WINDOW", "must be at least 1s")
	check(c.CacheTTL > 0, "LINK_CACHE_TTL", "must be positive")
	check(c.ClickFlushInterval > 0, "CLICK_FLUSH_INTERVAL", "must be positive")
	if reason := shortTokens(c.APITokens); reason != "" {
		problem("API_TOKENS", reason)
	}
	check(c.MaxPageSize >= 1 && c.MaxPageSize <= maxPageSize, "MAX_PAGE_SIZE", fmt.Sprintf("must be from 1 to %d", maxPageSize))
}

// maxPageSize is the largest MAX_PAGE_SIZE accepted: a list request
// holds its page, and one row more, in memory.
const maxPageSize = 10000

// Tokens are bearer tokens, read from a comma-separated list; a space
// after a comma is not part of a token.
type Tokens []secret.String

// Decode lets config.Load read a comma-separated list of tokens.
func (t *Tokens) Decode(s string) error {
	*t = nil
	for tok := range strings.SplitSeq(s, ",") {
		*t = append(*t, secret.String(strings.TrimSpace(tok)))
	}
	return nil
}

// minTokenLength is the shortest bearer token accepted: shorter ones are
// guessable.
const minTokenLength = 16

// shortTokens says, in one reason, which tokens are empty or shorter than
// minTokenLength, or returns "" when none is. It names positions, from 1,
// never values: a token is a secret.
func shortTokens(tokens Tokens) string {
	var short []string
	for i, tok := range tokens {
		if len(tok.Reveal()) < minTokenLength {
			short = append(short, strconv.Itoa(i+1))
		}
	}
	if len(short) == 0 {
		return ""
	}
	entries := "entry " + short[0]
	if len(short) > 1 {
		entries = "entries " + strings.Join(short, ", ")
	}
	return fmt.Sprintf("%s of %d must be a token of at least %d characters (spaces around it do not count; an empty entry is a stray comma)",
		entries, len(tokens), minTokenLength)
}
