package bad

import "crypto/tls"

func Config() *tls.Config {
	return &tls.Config{InsecureSkipVerify: true} // want `InsecureSkipVerify is always true`
}

func Later(c *tls.Config) {
	c.InsecureSkipVerify = true // want `InsecureSkipVerify is always true`
}
