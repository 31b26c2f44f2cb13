package good

import "crypto/tls"

// Config skips verification only when the operator's setting says so.
func Config(insecure bool) *tls.Config {
	return &tls.Config{InsecureSkipVerify: insecure}
}

// Opt sets the constant only when the operator asked for it.
func Opt(c *tls.Config, skip bool) {
	if skip {
		c.InsecureSkipVerify = true
	}
	if skip {
		c.RootCAs = nil
	} else {
		*c = tls.Config{InsecureSkipVerify: false}
	}
}
