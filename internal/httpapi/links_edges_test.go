package httpapi

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
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
			var p problem
			if json.Unmarshal(got, &p) == nil && len(p.Detail) > 200 {
				t.Errorf("%s %.60s detail = %.300s, want it not to echo the request", tt.method, tt.path, p.Detail)
			}
		})
	}
}
