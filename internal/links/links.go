// Package links is the example feature, a link shortener, in one package:
// its rules — what a valid URL and code are, how codes are made — here;
// its routes and handlers (http.go), queries (store.go), jobs (jobs.go)
// and click counter (clicks.go) beside them, with their tests; its
// settings in linkconfig and its end-to-end tests in linkse2e. Outside
// it are only its migrations and the lines that mount it (cmd/server),
// register its jobs (cmd/worker) and nest its settings (config.Config).
// It exists to show where a service's own code goes; delete it as the
// README describes.
package links

import (
	"crypto/rand"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dozen-go/dozen/internal/kind"
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

// Errors the store returns. Their kinds decide what a client is told.
var (
	ErrNotFound  = kind.New(kind.NotFound, "no such link")
	ErrCodeTaken = kind.New(kind.Conflict, "code already taken")
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

// ValidateURL accepts an absolute http or https URL of at most MaxURLLength
// bytes once percent-encoded (see NormalizeURL), with an ASCII host, a
// port (if any) from 1 to 65535 and no credentials. Everything else —
// relative URLs, javascript:, data:, file: and the like — is refused,
// since the service would redirect browsers to it; so are characters that
// would make the URL read differently from what it is: invalid UTF-8,
// spaces, C0 and C1 controls, bidirectional formatting, line and
// paragraph separators and the byte-order mark.
func ValidateURL(s string) error {
	bad := func(reason string) error { return kind.Errorf(kind.Invalid, "url: %s", reason) }
	switch {
	case s == "":
		return bad("is required")
	case !utf8.ValidString(s):
		return bad("must be valid UTF-8")
	case encodedLen(s) > MaxURLLength:
		return bad(fmt.Sprintf("must be at most %d bytes, with non-ASCII characters counted percent-encoded", MaxURLLength))
	}
	if i := strings.IndexFunc(s, deceptive); i >= 0 {
		r, _ := utf8.DecodeRuneInString(s[i:])
		return bad(fmt.Sprintf("must not contain spaces, control, bidirectional formatting or separator characters (found %U at byte %d)", r, i))
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
	case strings.ContainsFunc(u.Host, func(r rune) bool { return r >= utf8.RuneSelf }):
		return bad("must have an ASCII host: write an internationalised domain name in its xn-- form")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return bad("must have a port from 1 to 65535")
		}
	}
	return nil
}

// deceptive reports whether r may not appear in a URL: a space, a C0 or
// C1 control, DEL, a bidirectional embedding, override or isolate
// (U+202A–U+202E, U+2066–U+2069), a line or paragraph separator, or the
// byte-order mark. Each either breaks a header or makes the URL display
// as something it is not.
func deceptive(r rune) bool {
	switch {
	case r <= ' ', r >= 0x7f && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0x2028, r == 0x2029, r == 0xfeff:
		return true
	}
	return false
}

// NormalizeURL returns s, a URL that passed ValidateURL, with every
// non-ASCII byte percent-encoded (RFC 3986 §2.1, as browsers do), so that
// what is stored, shown and sent in Location is ASCII. ASCII is kept as
// it is, so a URL the client encoded itself is left alone.
func NormalizeURL(s string) string {
	if encodedLen(s) == len(s) {
		return s
	}
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, encodedLen(s))
	for i := range len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			b = append(b, c)
			continue
		}
		b = append(b, '%', hex[c>>4], hex[c&15])
	}
	return string(b)
}

// encodedLen is the length of s once NormalizeURL has encoded it.
func encodedLen(s string) int {
	n := len(s)
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			n += 2
		}
	}
	return n
}

// MaxLifetimeYears bounds how far ahead a link may expire: far enough for
// any use, near enough that every expiry is a time that JSON and both
// databases hold (a year past 9999, in UTC, is neither).
const MaxLifetimeYears = 100

// ValidateExpiry accepts an expiry after now and at most MaxLifetimeYears
// ahead of it.
func ValidateExpiry(t, now time.Time) error {
	bad := func(reason string) error { return kind.Errorf(kind.Invalid, "expires_at: %s", reason) }
	switch {
	case !t.After(now):
		return bad("must be in the future")
	case t.After(now.AddDate(MaxLifetimeYears, 0, 0)):
		return bad(fmt.Sprintf("must be at most %d years ahead", MaxLifetimeYears))
	}
	return nil
}

// StoredTime is t as the store keeps it: in UTC, to the microsecond (the
// precision of Postgres' timestamptz), so that what a create answers is
// what a read returns.
func StoredTime(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}

// ValidateCode accepts MinCodeLength to MaxCodeLength characters of
// Alphabet that are not a reserved path.
func ValidateCode(s string) error {
	bad := func(reason string) error { return kind.Errorf(kind.Invalid, "code: %s", reason) }
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
