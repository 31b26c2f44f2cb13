package links

import (
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dozen-go/dozen/internal/cache"
	"github.com/dozen-go/dozen/internal/links/linkconfig"
)

// storedServer serves the links of a real Postgres store over a real
// socket, with the real clock.
func storedServer(t *testing.T) (*httptest.Server, *http.Client) {
	t.Helper()
	st, _ := postgresStore(t)
	d, _, _ := testDeps(t)
	d.Links.Config.APITokens = linkconfig.Tokens{tokenA}
	d.Links.Store = st
	d.Links.Cache = cache.NewLocal[CachedLink](1000, time.Minute)
	srv := httptest.NewServer(newServer(d))
	t.Cleanup(srv.Close)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return srv, client
}

func send(t *testing.T, c *http.Client, method, url, body string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	var rb io.Reader
	if body != "" {
		rb = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rb)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// TestCreateAnswersWhatIsStored creates a link whose URL has non-ASCII
// characters and whose expiry has an offset and nanoseconds, against
// Postgres: the 201, its replay, the read and the list show the same
// link, as stored (URL percent-encoded, expiry in UTC to the
// microsecond), and the redirect's Location is ASCII.
func TestCreateAnswersWhatIsStored(t *testing.T) {
	srv, c := storedServer(t)
	exp := time.Now().AddDate(1, 0, 0).Truncate(time.Second).Add(123456789).In(time.FixedZone("", 2*3600))
	body := `{"url":"https://example.com/caf\u00e9?q=\u00fc","code":"st2red","expires_at":"` + exp.Format(time.RFC3339Nano) + `"}`
	auth := []string{"Authorization", "Bearer " + tokenA, "Idempotency-Key", "stored-1"}

	want := map[string]any{
		"code": "st2red", "url": "https://example.com/caf%C3%A9?q=%C3%BC", "clicks": 0.0,
		"expires_at": exp.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano),
	}
	check := func(what string, got []byte) {
		t.Helper()
		var m map[string]any
		if err := json.Unmarshal(got, &m); err != nil {
			t.Fatalf("%s body %s: %v", what, got, err)
		}
		delete(m, "created_at")
		if !maps.Equal(m, want) {
			t.Errorf("%s = %s, want the stored link %v (created_at aside)", what, got, want)
		}
	}
	resp, created := send(t, c, "POST", srv.URL+"/v1/links", body, auth...)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create = %d %s", resp.StatusCode, created)
	}
	check("201", created)
	location := resp.Header.Get("Location")
	if location != "/v1/links/st2red" || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("create Location %q, Content-Type %q; want /v1/links/st2red, application/json", location, resp.Header.Get("Content-Type"))
	}
	resp, replayed := send(t, c, "POST", srv.URL+"/v1/links", body, auth...)
	if resp.StatusCode != http.StatusCreated || string(replayed) != string(created) {
		t.Errorf("replay = %d %s, want 201 %s", resp.StatusCode, replayed, created)
	}
	if resp.Header.Get("Location") != location || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("replay Location %q, Content-Type %q; want %q, application/json as first sent",
			resp.Header.Get("Location"), resp.Header.Get("Content-Type"), location)
	}
	_, read := send(t, c, "GET", srv.URL+"/v1/links/st2red", "")
	check("read", read)
	var created2, read2 Link
	json.Unmarshal(created, &created2)
	json.Unmarshal(read, &read2)
	if !created2.CreatedAt.Equal(read2.CreatedAt) || created2.CreatedAt.Location() != time.UTC {
		t.Errorf("created_at: 201 says %v, read says %v; want the same, in UTC", created2.CreatedAt, read2.CreatedAt)
	}
	_, list := send(t, c, "GET", srv.URL+"/v1/links", "")
	var page struct{ Links []json.RawMessage }
	json.Unmarshal(list, &page)
	if len(page.Links) != 1 {
		t.Fatalf("list = %s, want one link", list)
	}
	check("list", page.Links[0])

	resp, _ = send(t, c, "GET", srv.URL+"/st2red", "")
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != "https://example.com/caf%C3%A9?q=%C3%BC" {
		t.Errorf("redirect = %d Location %q, want 302 to the percent-encoded URL", resp.StatusCode, loc)
	}

	for _, tt := range []struct{ body, detail string }{
		{`{"url":"https://x.example/","expires_at":"9999-12-31T23:59:59-14:00"}`, "expires_at: must be at most 100 years ahead"},
		{`{"url":"https://x.example/\u202egnp.exe"}`, "url: must not contain"},
		{`{"url":"https://x.example:0/"}`, "url: must have a port from 1 to 65535"},
	} {
		resp, got := send(t, c, "POST", srv.URL+"/v1/links", tt.body, "Authorization", "Bearer "+tokenA)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(got), tt.detail) {
			t.Errorf("create %s = %d %s, want 400 saying %q", tt.body, resp.StatusCode, got, tt.detail)
		}
	}
}

// TestUnencodableLinkIs500 stores, behind the API's back, a link that JSON
// cannot encode (an expiry past the year 9999): reading or listing it is a
// 500 problem, never a 200 with an empty body.
func TestUnencodableLinkIs500(t *testing.T) {
	st, _ := postgresStore(t)
	far := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := st.CreateLink(t.Context(), Link{Code: "farr", URL: "https://example.com", CreatedAt: time.Now(), ExpiresAt: &far}, nil); err != nil {
		t.Fatal(err)
	}
	d, _, _ := testDeps(t)
	d.Links.Store = st
	srv := httptest.NewServer(newServer(d))
	defer srv.Close()
	for _, path := range []string{"/v1/links/farr", "/v1/links"} {
		resp, body := send(t, http.DefaultClient, "GET", srv.URL+path, "")
		if resp.StatusCode != http.StatusInternalServerError || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("GET %s = %d %q %s, want 500 problem+json", path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
}
