package linkse2e

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLinksEndToEnd drives the link shortener through the real server on
// the embedded database: create, redirect, read, list, delete.
func TestLinksEndToEnd(t *testing.T) {
	s := start(t, "server", map[string]string{"DATA_DIR": t.TempDir(), "DRAIN_DELAY": "0s", "CLICK_FLUSH_INTERVAL": "50ms"})
	base := "http://" + s.Addr
	noRedirect := &http.Client{
		Timeout:       5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	do := func(method, path, body string, headers ...string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	auth := []string{"Authorization", "Bearer " + token}

	resp, body := do("POST", "/v1/links", `{"url":"https://example.com/docs","code":"godocs"}`, append(auth, "Idempotency-Key", "e2e-1")...)
	if resp.StatusCode != 201 || resp.Header.Get("Location") != "/v1/links/godocs" {
		t.Fatalf("POST /v1/links = %d %s (Location %q), want 201", resp.StatusCode, body, resp.Header.Get("Location"))
	}
	replayed, again := do("POST", "/v1/links", `{"url":"https://example.com/docs","code":"godocs"}`, append(auth, "Idempotency-Key", "e2e-1")...)
	if replayed.StatusCode != 201 || again != body {
		t.Errorf("replay = %d %s, want the first response", replayed.StatusCode, again)
	}
	if resp, _ := do("POST", "/v1/links", `{"url":"https://example.com"}`); resp.StatusCode != 401 {
		t.Errorf("POST without a token = %d, want 401", resp.StatusCode)
	}

	for range 3 {
		resp, _ := do("GET", "/godocs", "")
		if resp.StatusCode != 302 || resp.Header.Get("Location") != "https://example.com/docs" {
			t.Fatalf("GET /godocs = %d to %q, want 302 to the URL", resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	if resp, body := do("GET", "/v1/links/godocs", ""); resp.StatusCode != 200 || !strings.Contains(body, `"code":"godocs"`) {
		t.Errorf("GET /v1/links/godocs = %d %s", resp.StatusCode, body)
	}
	resp, body = do("GET", "/v1/links?limit=10", "")
	var page struct{ Links []struct{ Code string } }
	json.Unmarshal([]byte(body), &page)
	if resp.StatusCode != 200 || len(page.Links) != 1 {
		t.Errorf("GET /v1/links = %d %s, want the one link", resp.StatusCode, body)
	}
	if resp, _ := do("DELETE", "/v1/links/godocs", "", auth...); resp.StatusCode != 204 {
		t.Errorf("DELETE = %d, want 204", resp.StatusCode)
	}
	if resp, _ := do("GET", "/godocs", ""); resp.StatusCode != 404 {
		t.Errorf("GET /godocs after delete = %d, want 404", resp.StatusCode)
	}
	resp, body = do("GET", "/openapi.yaml", "")
	if resp.StatusCode != 200 || !strings.HasPrefix(body, "openapi: 3.1") || resp.Header.Get("Content-Type") != "application/yaml" {
		t.Errorf("GET /openapi.yaml = %d %s; want 200, application/yaml, an OpenAPI 3.1 document", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	noRedirect.CloseIdleConnections()

	s.Signal(t, syscall.SIGTERM)
	if code := s.Wait(t, 10*time.Second); code != 0 {
		t.Errorf("server exit code %d after SIGTERM, want 0", code)
	}
}
