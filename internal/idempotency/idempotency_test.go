package idempotency

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dozen-go/dozen/internal/kind"
)

func TestKey(t *testing.T) {
	tests := []struct {
		header  string
		want    string
		wantErr bool
	}{
		{"", "", false},
		{"abc-123", "abc-123", false},
		{strings.Repeat("k", 255), strings.Repeat("k", 255), false},
		{strings.Repeat("k", 256), "", true},
		{"has space", "", true},
		{"tab\there", "", true},
		{"é", "", true},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		if tt.header != "" {
			r.Header.Set(Header, tt.header)
		}
		got, err := Key(r)
		if got != tt.want || (err != nil) != tt.wantErr || (err != nil && kind.Of(err) != kind.Invalid) {
			t.Errorf("Key(%.20q) = %q, %v; want %q, error %v (Invalid)", tt.header, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestRequestHash(t *testing.T) {
	base := RequestHash("POST", "/v1/things", []byte(`{"a":1}`))
	for name, other := range map[string][]byte{
		"method": RequestHash("PUT", "/v1/things", []byte(`{"a":1}`)),
		"path":   RequestHash("POST", "/v1/other", []byte(`{"a":1}`)),
		"body":   RequestHash("POST", "/v1/things", []byte(`{"a":2}`)),
		// The separator keeps a path's end from passing for the body's start.
		"split": RequestHash("POST", "/v1/things{", []byte(`"a":1}`)),
	} {
		if bytes.Equal(base, other) {
			t.Errorf("RequestHash with another %s = the same hash, want a different one", name)
		}
	}
	if !bytes.Equal(base, RequestHash("POST", "/v1/things", []byte(`{"a":1}`))) {
		t.Error("RequestHash of the same request differs")
	}
}

func TestWriteReplaysWhatWasStored(t *testing.T) {
	w := httptest.NewRecorder()
	Write(w, &Response{Status: 201, ContentType: "application/json", Location: "/v1/things/1", Body: []byte(`{"id":1}`)})
	if w.Code != 201 || w.Header().Get("Location") != "/v1/things/1" || w.Header().Get("Content-Type") != "application/json" || w.Body.String() != `{"id":1}` {
		t.Errorf("Write() = %d %v %q, want the stored response", w.Code, w.Header(), w.Body)
	}
}

func TestRelease(t *testing.T) {
	failure := errors.New("insert failed")
	log := slog.New(slog.DiscardHandler)
	r := httptest.NewRequest(http.MethodPost, "/", nil)

	w := httptest.NewRecorder()
	released := false
	err := Release(w, r, log, func(context.Context) error { released = true; return nil }, time.Now().Add(5*time.Second), failure)
	if !released || !errors.Is(err, failure) || w.Header().Get("Retry-After") != "" {
		t.Errorf("Release(store up) = %v (released %v, Retry-After %q), want the failure itself", err, released, w.Header().Get("Retry-After"))
	}

	w = httptest.NewRecorder()
	err = Release(w, r, log, func(context.Context) error { return errors.New("connection refused") }, time.Now().Add(5*time.Second), failure)
	if kind.Of(err) != kind.Unavailable || w.Header().Get("Retry-After") != "5" {
		t.Errorf("Release(store down) = %v, Retry-After %q; want Unavailable, retry in 5 s when the claim lapses", err, w.Header().Get("Retry-After"))
	}
}
