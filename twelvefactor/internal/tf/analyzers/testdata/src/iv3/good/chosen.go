package good

import (
	"crypto/tls"
	"net/http"
)

var secureClient = &http.Client{}

// insecureClient is picked only when a request allows it.
var insecureClient = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}

type Request struct{ AllowInsecure bool }

func pick[T any](cond bool, yes, no T) T {
	if cond {
		return yes
	}
	return no
}

func Fetch(req Request, url string) (*http.Response, error) {
	client := pick(req.AllowInsecure, insecureClient, secureClient)
	return client.Get(url)
}

type Settings struct{ SkipVerify bool }

// newInsecureClient builds a client that skips verification; only the
// setting calls it.
func newInsecureClient() *http.Client {
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	return &http.Client{Transport: tr}
}

func Client(cfg Settings) *http.Client {
	client := secureClient
	if cfg.SkipVerify {
		client = newInsecureClient()
	}
	return client
}
