package adminhttp

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/dozen-go/dozen/internal/config"
	"github.com/dozen-go/dozen/internal/health"
)

func TestAdminRoutes(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector())
	down := func(context.Context) error { return errors.New("connection refused") }
	checker := health.NewChecker(slog.New(slog.DiscardHandler), time.Second, 0, health.Check{Name: "db", Required: true, Probe: down})
	srv := httptest.NewServer(NewServer(config.HTTP{}, reg, slog.New(slog.DiscardHandler), checker).Handler)
	defer srv.Close()

	tests := []struct {
		method, path string
		want         int
		body         string // a part of the body
	}{
		{"GET", "/metrics", 200, "go_goroutines"},
		{"GET", "/debug/pprof/", 200, "goroutine"},
		{"GET", "/debug/pprof/cmdline", 200, ""},
		{"GET", "/livez", 200, `"ok"`},
		{"GET", "/readyz", 503, `"ok":false`},
		{"POST", "/metrics", 405, ""},
		{"GET", "/version", 404, ""}, // the public API is not served here
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want || !strings.Contains(string(body), tt.body) {
				t.Errorf("%s %s = %d %.200s, want %d with %q", tt.method, tt.path, resp.StatusCode, body, tt.want, tt.body)
			}
		})
	}
}
