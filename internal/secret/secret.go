// Package secret holds the type of a setting that must never be printed,
// such as a token. It imports nothing of the service's, so that any
// package's settings may use it, a feature's included.
package secret

import (
	"encoding/json"
	"fmt"
	"log/slog"
)

// Mask is what a secret prints as, wherever it is printed.
const Mask = "[redacted]"

// String is a string that never prints its value: fmt, slog,
// encoding/json and encoding/text all see a mask. Call Reveal at the one
// place the value is needed, such as comparing a token.
type String string

// Reveal returns the secret's value.
func (s String) Reveal() string { return string(s) }

// String returns a mask, or "" when the secret is empty so that an unset
// secret can be told apart from a set one.
func (s String) String() string {
	if s == "" {
		return ""
	}
	return Mask
}

// GoString masks the value for the %#v verb.
func (s String) GoString() string { return fmt.Sprintf("secret.String(%q)", s.String()) }

// LogValue masks the value for log/slog.
func (s String) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText masks the value for encoders that use encoding.TextMarshaler.
func (s String) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// MarshalJSON masks the value for encoding/json.
func (s String) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }
