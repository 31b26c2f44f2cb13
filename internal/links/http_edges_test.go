package links

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dozen-go/dozen/internal/httpapi"
	"github.com/dozen-go/dozen/internal/httpapi/apitest"
	"github.com/dozen-go/dozen/internal/links/linkconfig"
)

// TestHTTPEdges sends, over a real socket, the requests at the edges of
// HTTP that a careless server answers wrongly.
func TestHTTPEdges(t *testing.T) {
	s := newLinkServer(t, 1000)
	if rec := s.create(`{"url":"https://example.com/edge","code":"edge"}`); rec.Code != 201 {
		t.Fatalf("create = %d %s", rec.Code, rec.Body)
	}
	srv := httptest.NewServer(s.h)
	defer srv.Close()

	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(`{"url":"https://example.com/gz"}`))
	zw.Close()
	body := `{"url":"https://example.com/x"}`
	auth := []string{"Authorization", "Bearer " + tokenA}

	tests := []struct {
		name, method, path string
		body               string
		headers            []string // name, value pairs; a name given twice sends two headers
		wantStatus         int
		wantAllow          string // for a 405
		wantDetail         string
	}{
		{"HEAD livez", "HEAD", "/livez", "", nil, 200, "", ""},
		{"HEAD readyz", "HEAD", "/readyz", "", nil, 200, "", ""},
		{"HEAD version", "HEAD", "/version", "", nil, 200, "", ""},
		{"HEAD openapi", "HEAD", "/openapi.yaml", "", nil, 200, "", ""},
		{"HEAD redirect", "HEAD", "/edge", "", nil, 302, "", ""},
		{"HEAD list", "HEAD", "/v1/links", "", nil, 200, "", ""},
		{"HEAD link", "HEAD", "/v1/links/edge", "", nil, 200, "", ""},
		{"405 link", "PUT", "/v1/links/edge", "", nil, 405, "GET, HEAD, DELETE", "method not allowed"},
		{"405 links", "DELETE", "/v1/links", "", nil, 405, "GET, HEAD, POST", "method not allowed"},
		{"405 redirect", "POST", "/edge", "", nil, 405, "GET, HEAD", "method not allowed"},
		{"405 livez", "POST", "/livez", "", nil, 405, "GET, HEAD", "method not allowed"},
		{"scheme lower case", "POST", "/v1/links", body, []string{"Authorization", "bearer " + tokenA}, 201, "", ""},
		{"scheme upper case", "POST", "/v1/links", `{"url":"https://example.com/y"}`, []string{"Authorization", "BEARER " + tokenA}, 201, "", ""},
		{"two Authorization headers", "POST", "/v1/links", body,
			[]string{"Authorization", "Bearer " + tokenA, "Authorization", "Bearer " + tokenB}, 400, "", "one Authorization header"},
		{"two Authorization headers on delete", "DELETE", "/v1/links/edge", "",
			[]string{"Authorization", "Bearer " + tokenA, "Authorization", "Bearer " + tokenA}, 400, "", "one Authorization header"},
		{"gzip body", "POST", "/v1/links", gz.String(), append([]string{"Content-Encoding", "gzip"}, auth...), 415, "", "Content-Encoding"},
		{"br with a plain body", "POST", "/v1/links", body, append([]string{"Content-Encoding", "br"}, auth...), 415, "", "Content-Encoding"},
		{"identity", "POST", "/v1/links", `{"url":"https://example.com/z"}`, append([]string{"Content-Encoding", "identity"}, auth...), 201, "", ""},
		{"cursor not URL encoding", "GET", "/v1/links?cursor=%zz", "", nil, 400, "", "query string"},
		{"cursor given twice", "GET", "/v1/links?cursor=&cursor=x", "", nil, 400, "", "cursor"},
		{"cursor garbage", "GET", "/v1/links?cursor=bm9wZQ", "", nil, 400, "", "cursor"},
		{"long code", "GET", "/v1/links/" + strings.Repeat("a", 5000), "", nil, 400, "", "code: must be 4 to 32"},
		{"bad code", "GET", "/v1/links/l1O0", "", nil, 400, "", "code: may only use"},
		{"delete bad code", "DELETE", "/v1/links/" + strings.Repeat("a", 50), "", auth, 400, "", "code: must be 4 to 32"},
		{"413 names the route's limit", "POST", "/v1/links", `{"url":"https://example.com/` + strings.Repeat("a", 2*1048576) + `"}`, auth, 413, "", "larger than 8192 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rb io.Reader
			if tt.body != "" {
				rb = strings.NewReader(tt.body)
			}
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, rb)
			if err != nil {
				t.Fatal(err)
			}
			if tt.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			for i := 0; i+1 < len(tt.headers); i += 2 {
				req.Header.Add(tt.headers[i], tt.headers[i+1])
			}
			client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("%s %.60s = %d %s, want %d", tt.method, tt.path, resp.StatusCode, got, tt.wantStatus)
			}
			if tt.method == "HEAD" && len(got) != 0 {
				t.Errorf("HEAD %s sent a body of %d bytes", tt.path, len(got))
			}
			if tt.wantStatus == 405 && resp.Header.Get("Allow") != tt.wantAllow {
				t.Errorf("%s %s Allow = %q, want %q", tt.method, tt.path, resp.Header.Get("Allow"), tt.wantAllow)
			}
			if !strings.Contains(string(got), tt.wantDetail) {
				t.Errorf("%s %.60s body = %.300s, want it to contain %q", tt.method, tt.path, got, tt.wantDetail)
			}
			var p apitest.Problem
			if json.Unmarshal(got, &p) == nil && len(p.Detail) > 200 {
				t.Errorf("%s %.60s detail = %.300s, want it not to echo the request", tt.method, tt.path, p.Detail)
			}
		})
	}
}

// TestRateLimitClients checks whom the create rate limit counts as one
// client: an IPv6 /64 is one, and behind a trusted proxy a request with a
// missing or broken X-Forwarded-For is its peer, not one "unknown" client
// shared by all of them.
func TestRateLimitClients(t *testing.T) {
	tests := []struct {
		name    string
		proxies int
		first   [2]string // RemoteAddr, X-Forwarded-For of the requests that use up the limit
		then    [2]string // of the next request
		want    int       // its status
	}{
		{"same /64", 0, [2]string{"[2001:db8:1:2::1]:1000", ""}, [2]string{"[2001:db8:1:2:ffff::9]:1000", ""}, 429},
		{"another /64", 0, [2]string{"[2001:db8:1:2::1]:1000", ""}, [2]string{"[2001:db8:1:3::1]:1000", ""}, 201},
		{"IPv4 addresses apart", 0, [2]string{"192.0.2.1:1000", ""}, [2]string{"192.0.2.2:1000", ""}, 201},
		{"behind a proxy, same client", 1, [2]string{"10.0.0.1:1000", "203.0.113.7"}, [2]string{"10.0.0.2:1000", "203.0.113.7"}, 429},
		{"behind a proxy, no header, other peers", 1, [2]string{"198.51.100.1:1000", ""}, [2]string{"198.51.100.2:1000", ""}, 201},
		{"behind a proxy, broken header, other peers", 1, [2]string{"198.51.100.1:1000", "garbage"}, [2]string{"198.51.100.2:1000", "junk"}, 201},
		{"behind a proxy, no header, same peer", 1, [2]string{"198.51.100.1:1000", ""}, [2]string{"198.51.100.1:2000", ""}, 429},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, _, _ := testDeps(t)
			d.Config.TrustedProxies = tt.proxies
			d.Links.Config.APITokens = linkconfig.Tokens{tokenA}
			d.Links.CreateLimit = httpapi.NewRateLimit(quietLog, "create", 2, time.Minute, nil)
			h := newServer(d)
			send := func(i int, from [2]string) int {
				r := httptest.NewRequest("POST", "/v1/links", strings.NewReader(fmt.Sprintf(`{"url":"https://example.com/%d"}`, i)))
				r.Header.Set("Content-Type", "application/json")
				r.Header.Set("Authorization", "Bearer "+tokenA)
				r.RemoteAddr = from[0]
				if from[1] != "" {
					r.Header.Set("X-Forwarded-For", from[1])
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, r)
				return rec.Code
			}
			for i := range 2 {
				if got := send(i, tt.first); got != 201 {
					t.Fatalf("create %d within the limit = %d", i, got)
				}
			}
			if got := send(2, tt.then); got != tt.want {
				t.Errorf("next create from %v = %d, want %d", tt.then, got, tt.want)
			}
		})
	}
}

// TestClientIPInLog checks, over a real socket behind a trusted proxy that
// sent no X-Forwarded-For, that the access log names the client: the peer.
func TestClientIPInLog(t *testing.T) {
	d, _, logs := testDeps(t)
	d.Config.TrustedProxies = 1
	srv := httptest.NewServer(newServer(d))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/version")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, rec := range logs.Lines(t) {
		if rec["msg"] != "request" {
			continue
		}
		if rec["client_ip"] != "127.0.0.1" {
			t.Errorf("access log client_ip = %v, want 127.0.0.1, the peer", rec["client_ip"])
		}
		return
	}
	t.Fatal("no access-log line")
}
