package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dozen-go/dozen/internal/kind"
)

// TestJSON checks the one place responses are encoded: Content-Type
// before the status, one JSON document and a newline, and a value that
// cannot be encoded answered as a 500 problem, not an empty success.
// createReq stands for a request struct: only what a client may set.
type createReq struct {
	URL  string `json:"url"`
	Code string `json:"code"`
	Hits int    `json:"hits"`
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name, contentType, body string
		wantStatus              int    // 0 means success
		wantDetail              string // a fragment of the problem detail
	}{
		{"ok", "application/json", `{"url":"https://example.com","code":"abc"}`, 0, ""},
		{"ok with charset", "application/json; charset=utf-8", `{"url":"x"}`, 0, ""},
		{"ok with trailing space", "application/json", "{\"url\":\"x\"} \n", 0, ""},
		{"no content type", "", `{"url":"x"}`, 415, "Content-Type"},
		{"wrong content type", "text/plain", `{"url":"x"}`, 415, "Content-Type"},
		{"form", "application/x-www-form-urlencoded", `url=x`, 415, "Content-Type"},
		{"empty", "application/json", ``, 400, "empty"},
		{"null", "application/json", `null`, 400, "JSON object"},
		{"array", "application/json", `[{"url":"x"}]`, 400, "JSON object"},
		{"string", "application/json", `"x"`, 400, "JSON object"},
		{"trailing garbage", "application/json", `{"url":"x"} x`, 400, ""},
		{"two objects", "application/json", `{}{}`, 400, "nothing after it"},
		{"unknown field", "application/json", `{"url":"x","admin":true}`, 400, `unknown field "admin"`},
		{"wrong type", "application/json", `{"url":1}`, 400, `field "url" must be a JSON string`},
		{"wrong number type", "application/json", `{"hits":"many"}`, 400, `field "hits" must be a JSON number`},
		{"syntax", "application/json", `{"url":}`, 400, "not valid JSON"},
		{"truncated", "application/json", `{"url":"x"`, 400, "truncated"},
		{"duplicate field", "application/json", `{"url":"a","url":"b"}`, 400, `field "url" is given more than once`},
		{"field in other case", "application/json", `{"url":"a","URL":"b"}`, 400, `unknown field "URL"`},
		{"field in other case, not allowed", "application/json", `{"url":"a","Admin":true}`, 400, `unknown field "Admin"`},
		{"merge patch is not JSON here", "application/merge-patch+json", `{"url":"x"}`, 415, "Content-Type"},
		{"too large", "application/json", `{"url":"` + strings.Repeat("a", 100) + `"}`, 413, "larger than 64 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", strings.NewReader(tt.body))
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, 64)
			_, _, err := Decode[createReq](r)
			if tt.wantStatus == 0 {
				if err != nil {
					t.Fatalf("Decode(%q) error = %v, want nil", tt.body, err)
				}
				return
			}
			status, _ := Status(kind.Of(err))
			detail := kind.Detail(err)
			if status != tt.wantStatus || detail == "" || !strings.Contains(detail, tt.wantDetail) {
				t.Errorf("Decode(%q) = %d %q, want %d containing %q", tt.body, status, detail, tt.wantStatus, tt.wantDetail)
			}
		})
	}
}

// FuzzDecode feeds request bodies to the strict decoder: whatever the
// input, the answer is a decoded request or a 4xx naming the problem. Seeds
// are in testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, 1<<10)
		_, _, err := Decode[createReq](r)
		if err == nil {
			return
		}
		if status, _ := Status(kind.Of(err)); status < 400 || status > 499 || kind.Detail(err) == "" {
			t.Fatalf("Decode(%q) error = %v, want a 4xx naming the problem", body, err)
		}
	})
}
