package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/dozen-go/dozen/internal/secret"
)

// Secret is a string that never prints its value; see package secret,
// which a feature's settings use without importing this package.
type Secret = secret.String

// URL is a URL setting, such as DATABASE_URL, that may carry a password.
// Everything that prints it shows the password masked; Value returns the
// URL a client library needs.
type URL struct {
	u *url.URL
}

// ParseURL parses an absolute URL. Its error never contains the input,
// which may hold a password.
func ParseURL(s string) (URL, error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return URL{}, errors.New("not an absolute URL of the form scheme://host/path")
	}
	return URL{u: u}, nil
}

// Decode lets envconfig parse a URL setting.
func (u *URL) Decode(s string) error {
	v, err := ParseURL(s)
	if err != nil {
		return err
	}
	*u = v
	return nil
}

// IsSet reports whether the URL was given.
func (u URL) IsSet() bool { return u.u != nil }

// Value returns the full URL, password included, for the client library
// that connects with it.
func (u URL) Value() string {
	if u.u == nil {
		return ""
	}
	return u.u.String()
}

// Scheme returns the URL's scheme, such as "postgres" or "rediss".
func (u URL) Scheme() string {
	if u.u == nil {
		return ""
	}
	return u.u.Scheme
}

// String returns the URL with its password masked, whether it is in the
// user info or in a query parameter such as ?password= or ?sslpassword=.
func (u URL) String() string {
	if u.u == nil {
		return ""
	}
	c := *u.u
	if c.RawQuery != "" {
		q := c.Query()
		for k := range q {
			if isSecretParam(k) {
				q[k] = []string{"xxxxx"}
			}
		}
		c.RawQuery = q.Encode()
	}
	return c.Redacted()
}

// isSecretParam reports whether a query parameter of a connection URL
// carries a credential.
func isSecretParam(k string) bool {
	k = strings.ToLower(k)
	for _, s := range []string{"password", "secret", "token", "key"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// GoString masks the password for the %#v verb.
func (u URL) GoString() string { return fmt.Sprintf("config.URL(%q)", u.String()) }

// LogValue masks the password for log/slog.
func (u URL) LogValue() slog.Value { return slog.StringValue(u.String()) }

// MarshalText masks the password for encoders that use encoding.TextMarshaler.
func (u URL) MarshalText() ([]byte, error) { return []byte(u.String()), nil }

// MarshalJSON masks the password for encoding/json.
func (u URL) MarshalJSON() ([]byte, error) { return json.Marshal(u.String()) }
