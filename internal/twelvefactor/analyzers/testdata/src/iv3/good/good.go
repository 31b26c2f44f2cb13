package good

import "crypto/tls"

// Config skips verification only when the operator's setting says so.
func Config(insecure bool) *tls.Config {
	return &tls.Config{InsecureSkipVerify: insecure}
}
