package suppressed

import "crypto/tls"

func Probe() *tls.Config {
	//twelvefactor:ignore IV3 the probe only reports certificate expiry, it sends no data
	return &tls.Config{InsecureSkipVerify: true} // want `InsecureSkipVerify is always true`
}
