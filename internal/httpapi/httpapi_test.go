package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dozen-go/dozen/internal/buildinfo"
	"github.com/dozen-go/dozen/internal/config"
	"github.com/dozen-go/dozen/internal/health"
	"github.com/dozen-go/dozen/internal/httpapi/apitest"
	"github.com/dozen-go/dozen/internal/logging"
	"github.com/dozen-go/dozen/internal/web"
)

// quietLog is a logger for tests that look at responses, not logs.
var quietLog = slog.New(slog.DiscardHandler)

// testDeps returns Deps with a fresh registry and a logger writing JSON
// lines into the returned buffer.
func testDeps(t *testing.T) (Deps, *prometheus.Registry, *apitest.LogBuffer) {
	t.Helper()
	var cfg config.Config
	if err := config.Process(&cfg, func(string) (string, bool) { return "", false }); err != nil {
		t.Fatal(err)
	}
	logs := &apitest.LogBuffer{}
	cfg.Log.Level = slog.LevelDebug
	cfg.Log.FlushInterval = 0
	log, _ := logging.New(logs, cfg.Log)
	reg := prometheus.NewRegistry()
	st, queue := apitest.Database(t)
	return Deps{
		Config:  cfg.HTTP,
		Log:     log,
		Metrics: reg,
		Health:  health.NewChecker(log, time.Second, 0),
		Build:   buildinfo.Info{Module: "example.com/svc", Version: "v1.0.0", GoVersion: "go1.26"},
		Store:   st,
		Jobs:    queue,
	}, reg, logs
}

func TestRoutes(t *testing.T) {
	d, _, _ := testDeps(t)
	srv := httptest.NewServer(NewServer(d))
	defer srv.Close()

	tests := []struct {
		method, path string
		wantStatus   int
		wantType     string
	}{
		{"GET", "/livez", 200, "application/json"},
		{"GET", "/readyz", 200, "application/json"},
		{"GET", "/version", 200, "application/json"},
		{"GET", "/openapi.yaml", 200, "application/yaml"},
		{"GET", "/no/such/thing", 404, "application/problem+json"},
		{"POST", "/livez", 405, "application/problem+json"},
		{"DELETE", "/version", 405, "application/problem+json"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("%s %s status = %d, want %d", tt.method, tt.path, resp.StatusCode, tt.wantStatus)
			}
			if ct := resp.Header.Get("Content-Type"); ct != tt.wantType {
				t.Errorf("%s %s Content-Type = %q, want %q", tt.method, tt.path, ct, tt.wantType)
			}
			for _, h := range []string{"X-Request-Id", "X-Content-Type-Options", "Content-Security-Policy"} {
				if resp.Header.Get(h) == "" {
					t.Errorf("%s %s has no %s header", tt.method, tt.path, h)
				}
			}
			if tt.wantStatus >= 400 {
				p := apitest.DecodeProblem(t, resp)
				if p.Status != tt.wantStatus || p.RequestID != resp.Header.Get("X-Request-Id") || p.Title == "" {
					t.Errorf("problem = %+v, want status %d and the response's request id", p, tt.wantStatus)
				}
			}
		})
	}
}

func TestResponseHeaders(t *testing.T) {
	d, _, _ := testDeps(t)
	h := NewServer(d)
	for _, r := range []struct{ method, path string }{
		{"GET", "/version"},
		{"GET", "/no/such/path"},
		{"DELETE", "/version"}, // a 405, with Allow
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(r.method, r.path, nil))
		apitest.CheckSecurityHeaders(t, fmt.Sprintf("%s %s (%d)", r.method, r.path, rec.Code), rec.Result().Header)
	}
}

func TestVersion(t *testing.T) {
	d, _, _ := testDeps(t)
	rec := httptest.NewRecorder()
	NewServer(d).ServeHTTP(rec, httptest.NewRequest("GET", "/version", nil))
	var got buildinfo.Info
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got != d.Build {
		t.Errorf("GET /version = %+v, want %+v", got, d.Build)
	}
}

func TestReadyzTurns503OnShutdown(t *testing.T) {
	d, _, _ := testDeps(t)
	h := NewServer(d)
	get := func(path string) int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		return rec.Code
	}
	if got := get("/readyz"); got != 200 {
		t.Fatalf("GET /readyz = %d before shutdown, want 200", got)
	}
	d.Health.Shutdown()
	if got := get("/readyz"); got != 503 {
		t.Errorf("GET /readyz = %d after shutdown began, want 503", got)
	}
	if got := get("/livez"); got != 200 {
		t.Errorf("GET /livez = %d after shutdown began, want 200", got)
	}
}

func TestRequestID(t *testing.T) {
	tests := []struct {
		name     string
		incoming string
		keep     bool
	}{
		{"none", "", false},
		{"sane", "edge-4f2a.17:x_y", true},
		{"too long", strings.Repeat("a", 65), false},
		{"log injection", "abc\",\"level\":\"error", false},
		{"spaces", "a b", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, _, logs := testDeps(t)
			r := newRouter(d)
			var inside string
			r.Get("/x", func(w http.ResponseWriter, r *http.Request) {
				inside = web.RequestID(r.Context())
				d.Log.InfoContext(r.Context(), "inside handler")
			})
			req := httptest.NewRequest("GET", "/x", nil)
			if tt.incoming != "" {
				req.Header.Set("X-Request-Id", tt.incoming)
			}
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, req)

			got := rec.Header().Get("X-Request-Id")
			if tt.keep && got != tt.incoming {
				t.Errorf("X-Request-Id = %q, want the incoming %q", got, tt.incoming)
			}
			if !tt.keep && (got == tt.incoming || !validRequestID(got)) {
				t.Errorf("X-Request-Id = %q, want a new valid id", got)
			}
			if inside != got {
				t.Errorf("RequestID(ctx) in handler = %q, want %q", inside, got)
			}
			lines := logs.Lines(t)
			if len(lines) != 2 {
				t.Fatalf("got %d log lines, want the handler's and the access log's: %v", len(lines), lines)
			}
			for _, l := range lines {
				if l["request_id"] != got {
					t.Errorf("log line %v has request_id %v, want %q", l["msg"], l["request_id"], got)
				}
			}
		})
	}
}

func TestAccessLog(t *testing.T) {
	d, _, logs := testDeps(t)
	h := NewServer(d)
	for _, path := range []string{"/version", "/livez"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	}
	lines := logs.Lines(t)
	if len(lines) != 2 {
		t.Fatalf("got %d log lines, want 2", len(lines))
	}
	v := lines[0]
	for _, k := range []string{"request_id", "method", "route", "status", "bytes", "duration"} {
		if _, ok := v[k]; !ok {
			t.Errorf("access log line %v lacks %q", v, k)
		}
	}
	if v["level"] != "info" || v["route"] != "/version" || v["status"] != float64(200) {
		t.Errorf("access log line = %v, want info, route /version, status 200", v)
	}
	if lines[1]["level"] != "debug" {
		t.Errorf("probe access log level = %v, want debug", lines[1]["level"])
	}
}

func TestRecoverer(t *testing.T) {
	d, _, logs := testDeps(t)
	r := newRouter(d)
	r.Get("/panic", func(http.ResponseWriter, *http.Request) { panic("secret internal detail") })
	r.Get("/abort", func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) })

	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("GET", "/panic", nil))
	if rec.Code != 500 {
		t.Errorf("panic: status = %d, want 500", rec.Code)
	}
	body := rec.Body.String()
	if strings.Contains(body, "secret internal detail") || strings.Contains(body, "goroutine") {
		t.Errorf("panic: body = %q, leaks the panic or stack", body)
	}
	p := apitest.DecodeProblem(t, rec.Result())
	if p.RequestID == "" || p.RequestID != rec.Header().Get("X-Request-Id") {
		t.Errorf("panic: problem request_id = %q, want %q", p.RequestID, rec.Header().Get("X-Request-Id"))
	}
	var logged bool
	for _, l := range logs.Lines(t) {
		if l["msg"] == "panic serving request" {
			logged = strings.Contains(fmt.Sprint(l["stack"]), "TestRecoverer") && l["request_id"] == p.RequestID
		}
	}
	if !logged {
		t.Errorf("panic: no error log line with the stack and request id")
	}

	defer func() {
		if err, _ := recover().(error); !errors.Is(err, http.ErrAbortHandler) {
			t.Errorf("ErrAbortHandler: recovered %v, want http.ErrAbortHandler re-panicked", err)
		}
	}()
	r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/abort", nil))
}

// series counts the series of the named metric family.
func series(t *testing.T, reg *prometheus.Registry, name string) int {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return len(mf.GetMetric())
		}
	}
	return 0
}

func TestUnmatchedRoutesAddNoSeries(t *testing.T) {
	d, reg, _ := testDeps(t)
	h := NewServer(d)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/version", nil))
	for i := range 2000 {
		method := []string{"GET", "POST", "BREW", "PROPFIND"}[i%4]
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(method, fmt.Sprintf("/scan/%d/wp-admin.php", i), nil))
	}
	// /version 200; unmatched 404 for GET, POST and OTHER.
	if got := series(t, reg, "http_requests_total"); got != 4 {
		t.Errorf("http_requests_total has %d series after 2000 random paths, want 4", got)
	}
}

func TestBuildTwice(t *testing.T) {
	for range 2 {
		d, _, _ := testDeps(t)
		NewServer(d) // a shared global registry would panic here
	}
}

func TestShedding(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{})
	h := shed(1)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
	}))
	done := make(chan int)
	go func() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		done <- rec.Code
	}()
	<-entered

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 503 || rec.Header().Get("Retry-After") == "" {
		t.Errorf("over the cap: status %d, Retry-After %q; want 503 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
	}
	apitest.DecodeProblem(t, rec.Result())

	close(release)
	if code := <-done; code != 200 {
		t.Errorf("request under the cap: status %d, want 200", code)
	}
	// The slot is free again.
	go func() { <-entered }()
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 200 {
		t.Errorf("after the cap freed: status %d, want 200", rec.Code)
	}
}

func TestLimits(t *testing.T) {
	var deadline time.Time
	h := Limits(10, time.Minute)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		deadline, _ = r.Context().Deadline()
		var tooLarge *http.MaxBytesError
		if _, err := io.ReadAll(r.Body); errors.As(err, &tooLarge) {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
		}
	}))
	tests := []struct {
		name string
		req  *http.Request
		want int
	}{
		{"small", httptest.NewRequest("POST", "/", strings.NewReader("0123456789")), 200},
		{"declared too large", httptest.NewRequest("POST", "/", strings.NewReader("0123456789x")), 413},
		{"chunked too large", func() *http.Request {
			r := httptest.NewRequest("POST", "/", io.MultiReader(strings.NewReader("0123456789x")))
			r.ContentLength = -1
			return r
		}(), 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, tt.req)
			if rec.Code != tt.want {
				t.Errorf("status = %d, want %d", rec.Code, tt.want)
			}
		})
	}
	if time.Until(deadline) <= 0 || time.Until(deadline) > time.Minute {
		t.Errorf("request deadline in %v, want within a minute", time.Until(deadline))
	}
}

func TestClientIPTrustsOnlyConfiguredProxies(t *testing.T) {
	tests := []struct {
		proxies int
		xff     string
		want    string
	}{
		{0, "203.0.113.7", "192.0.2.1"},                  // no proxy trusted: the peer
		{1, "203.0.113.7", "203.0.113.7"},                // Heroku's router appended the client
		{1, "198.51.100.9, 203.0.113.7", "203.0.113.7"},  // a spoofed entry before it is ignored
		{2, "198.51.100.9, 203.0.113.7", "198.51.100.9"}, // two proxies: one step further
		// A chain too short, missing or broken: the peer, never one
		// shared unknown client.
		{2, "203.0.113.7", "192.0.2.1"},
		{1, "", "192.0.2.1"},
		{1, "not-an-address", "192.0.2.1"},
		{1, "203.0.113.7, ", "203.0.113.7"},
	}
	for _, tt := range tests {
		var got string
		h := requestValues(tt.proxies)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if ip := clientAddr(r.Context()); ip.IsValid() {
				got = ip.String()
			}
		}))
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = "192.0.2.1:4321"
		if tt.xff != "" {
			r.Header.Set("X-Forwarded-For", tt.xff)
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
		if got != tt.want {
			t.Errorf("client IP with %d trusted proxies and X-Forwarded-For %q = %q, want %q", tt.proxies, tt.xff, got, tt.want)
		}
	}
}
