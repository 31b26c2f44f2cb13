package apitest

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/dozen-go/dozen/internal/database/dbtest"
	"github.com/dozen-go/dozen/internal/jobs"
	"github.com/dozen-go/dozen/internal/store"
	"github.com/dozen-go/dozen/migrations"
)

// Database returns a store over an embedded database of the test's own,
// migrated, that goes when the test ends, and a job inserter over it.
func Database(t *testing.T) (*store.Store, *jobs.Client) {
	t.Helper()
	db := dbtest.Open(t, migrations.SQLite)
	queue, err := jobs.NewInserter(db.SQL, db.Dialect, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	return store.New(db.SQL), queue
}

// LogBuffer collects a logger's JSON lines; it is safe for concurrent
// writers.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *LogBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// Lines decodes the JSON log lines written so far.
func (s *LogBuffer) Lines(t *testing.T) []map[string]any {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s.b.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// Problem is an RFC 9457 problem details object, as web.Problem writes it.
type Problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail,omitempty"`
	Instance  string `json:"instance,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// DecodeProblem checks that resp is problem+json and decodes it.
func DecodeProblem(t *testing.T, resp *http.Response) Problem {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json", ct)
	}
	var p Problem
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		t.Fatalf("decode problem: %v", err)
	}
	return p
}

// SecurityHeaders are the headers every response carries, whatever its
// status.
var SecurityHeaders = map[string]string{
	"X-Content-Type-Options":       "nosniff",
	"Referrer-Policy":              "no-referrer",
	"Content-Security-Policy":      "default-src 'none'; frame-ancestors 'none'",
	"Strict-Transport-Security":    "max-age=63072000; includeSubDomains",
	"Cross-Origin-Resource-Policy": "same-origin",
}

// CheckSecurityHeaders checks that h, a response's headers, carries
// SecurityHeaders, each once.
func CheckSecurityHeaders(t *testing.T, what string, h http.Header) {
	t.Helper()
	for k, v := range SecurityHeaders {
		if got := h.Values(k); len(got) != 1 || got[0] != v {
			t.Errorf("%s: %s = %q, want %q", what, k, got, v)
		}
	}
}
