// Package links is the example domain: a link shortener. It holds the
// rules — what a valid URL and code are, how codes are made — and the
// types the store and the HTTP handlers share. It exists to show where a
// service's own code goes; delete it as the README describes.
package links

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Link is a short code and the URL it redirects to.
type Link struct {
	ID        int64      `json:"-"`
	Code      string     `json:"code"`
	URL       string     `json:"url"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	// Clicks is the folded click count: it lags the redirects by at most
	// the click flush interval plus one worker run.
	Clicks int64 `json:"clicks"`
}

// Expired reports whether the link has expired at now.
func (l Link) Expired(now time.Time) bool {
	return l.ExpiresAt != nil && !now.Before(*l.ExpiresAt)
}

// Errors the store returns, mapped to HTTP statuses by the handlers.
var (
	ErrNotFound  = errors.New("link not found")
	ErrCodeTaken = errors.New("code already taken")
)

// Limits of a link.
const (
	MaxURLLength  = 2048
	MinCodeLength = 4
	MaxCodeLength = 32
	// GeneratedCodeLength gives 57^8 ≈ 1.1e14 codes: a collision is
	// retried, and rare until hundreds of millions of links exist.
	GeneratedCodeLength = 8
)

// Alphabet is every character a code may use: letters and digits without
// the look-alikes 0, O, 1, l and I, so that codes survive being read aloud
// or copied by hand. It has 57 characters.
const Alphabet = "23456789abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"

// reserved are codes that would collide with the service's own top-level
// paths, present or likely.
var reserved = map[string]bool{
	"livez": true, "readyz": true, "healthz": true, "version": true, "metrics": true,
	"openapi": true, "docs": true, "admin": true, "static": true, "favicon": true,
}

// ValidationError names the field at fault and what is wrong with it.
type ValidationError struct {
	Field  string
	Reason string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Reason }

// ValidateURL accepts an absolute http or https URL of at most MaxURLLength
// bytes, with a host and without credentials. Everything else — relative
// URLs, javascript:, data:, file: and the like — is refused, since the
// service would redirect browsers to it.
func ValidateURL(s string) error {
	bad := func(reason string) error { return &ValidationError{"url", reason} }
	switch {
	case s == "":
		return bad("is required")
	case len(s) > MaxURLLength:
		return bad(fmt.Sprintf("must be at most %d bytes", MaxURLLength))
	case strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return bad("must not contain spaces or control characters")
	}
	u, err := url.Parse(s)
	if err != nil {
		return bad("is not a valid URL")
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return bad("must be an absolute http or https URL")
	case u.Host == "" || u.Hostname() == "":
		return bad("must have a host")
	case u.User != nil:
		return bad("must not contain credentials")
	}
	return nil
}

// ValidateCode accepts MinCodeLength to MaxCodeLength characters of
// Alphabet that are not a reserved path.
func ValidateCode(s string) error {
	bad := func(reason string) error { return &ValidationError{"code", reason} }
	switch {
	case len(s) < MinCodeLength || len(s) > MaxCodeLength:
		return bad(fmt.Sprintf("must be %d to %d characters long", MinCodeLength, MaxCodeLength))
	case strings.ContainsFunc(s, func(r rune) bool { return !strings.ContainsRune(Alphabet, r) }):
		return bad("may only use the characters " + Alphabet)
	case reserved[strings.ToLower(s)]:
		return bad("is reserved")
	}
	return nil
}

// NewCode returns a random code of GeneratedCodeLength characters.
func NewCode() string {
	// Bytes at or above the largest multiple of len(Alphabet) are skipped,
	// so every character is equally likely.
	const limit = 256 - 256%len(Alphabet)
	code := make([]byte, 0, GeneratedCodeLength)
	var buf [32]byte
	for len(code) < GeneratedCodeLength {
		rand.Read(buf[:]) // never fails; see crypto/rand
		for _, c := range buf {
			if int(c) < limit && len(code) < GeneratedCodeLength {
				code = append(code, Alphabet[int(c)%len(Alphabet)])
			}
		}
	}
	return string(code)
}
