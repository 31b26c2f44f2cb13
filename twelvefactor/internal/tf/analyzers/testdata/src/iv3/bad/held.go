package bad

import (
	"crypto/tls"
	"net/http"
)

// sharedClient skips verification for every caller.
var sharedClient = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // want `InsecureSkipVerify is always true`

func Get(url string) (*http.Response, error) { return sharedClient.Get(url) }

// Post builds an always-insecure transport inline.
func Post(url string) (*http.Response, error) {
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // want `InsecureSkipVerify is always true`
	return c.Post(url, "text/plain", nil)
}
