package links

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dozen-go/dozen/internal/cache"
	"github.com/dozen-go/dozen/internal/httpapi"
	"github.com/dozen-go/dozen/internal/httpapi/apitest"
	"github.com/dozen-go/dozen/internal/kind"
	"github.com/dozen-go/dozen/internal/links/linkconfig"
	"github.com/dozen-go/dozen/internal/logging"
	"github.com/dozen-go/dozen/internal/web"
	"github.com/go-chi/chi/v5"
)

// errorServer is the whole stack over in-memory link storage, on a real
// socket, with the given cap on requests in flight and create budget,
// and one route more that panics.
func errorServer(t *testing.T, maxInFlight, createLimit int) *httptest.Server {
	t.Helper()
	d, _, _ := testDeps(t)
	d.Config.MaxInFlight = maxInFlight
	d.Links = Feature{
		Config: linkconfig.Config{APITokens: linkconfig.Tokens{tokenA}, MaxPageSize: 5}, IdempotencyTTL: time.Hour,
		Store:       newMemStore(),
		Cache:       cache.NewLocal[CachedLink](1000, time.Minute),
		Clicks:      &clickLog{},
		CreateLimit: httpapi.NewRateLimit(d.Log, "create", createLimit, time.Minute, nil),
		Now:         time.Now,
	}
	d.Features = []httpapi.Feature{mountFunc(func(r chi.Router) {
		r.Get("/panic", func(http.ResponseWriter, *http.Request) { panic("boom") })
	})}
	srv := httptest.NewServer(newServer(d))
	t.Cleanup(srv.Close)
	return srv
}

// Every error status the service writes, from handlers and middleware
// alike, is a problem+json answer with the status and title the error
// table gives its kind. (499 is never sent: TestCancelledRequestIsClientClosed
// checks the access log records it.)
func TestEveryErrorStatusFromTheTable(t *testing.T) {
	srv := errorServer(t, 100, 100)
	shedding := errorServer(t, 0, 100) // every request over the cap
	limited := errorServer(t, 100, 1)
	auth := "Bearer " + tokenA
	spend, err := http.NewRequest("POST", limited.URL+"/v1/links", strings.NewReader(`{"url":"https://example.com"}`))
	if err != nil {
		t.Fatal(err)
	}
	spend.Header.Set("Authorization", auth)
	spend.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(spend)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("first create = %d, want 201", resp.StatusCode)
	}
	for _, tt := range []struct {
		name         string
		srv          *httptest.Server
		method, path string
		contentType  string
		body         string
		auth         string
		want         kind.Kind
		header       string // a header the answer must carry
	}{
		{"no route", srv, "GET", "/no/such/path", "", "", "", kind.NotFound, ""},
		{"no such link", srv, "GET", "/v1/links/zzzz2345", "", "", "", kind.NotFound, ""},
		{"method", srv, "DELETE", "/version", "", "", "", kind.NotAllowed, "Allow"},
		{"no token", srv, "POST", "/v1/links", "application/json", "{}", "", kind.Unauthenticated, "WWW-Authenticate"},
		{"bad body", srv, "POST", "/v1/links", "application/json", `{"url":1}`, auth, kind.Invalid, ""},
		{"body too large", srv, "POST", "/v1/links", "application/json", strings.Repeat(" ", maxLinkBody+1), auth, kind.TooLarge, ""},
		{"media type", srv, "POST", "/v1/links", "text/plain", "{}", auth, kind.Unsupported, ""},
		{"panic", srv, "GET", "/panic", "", "", "", kind.Internal, ""},
		{"at capacity", shedding, "GET", "/version", "", "", "", kind.Unavailable, "Retry-After"},
		{"rate limited", limited, "POST", "/v1/links", "application/json", `{"url":"https://example.com"}`, auth, kind.RateLimited, "Retry-After"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, tt.srv.URL+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			status, _ := web.Status(tt.want)
			p := apitest.DecodeProblem(t, resp)
			if resp.StatusCode != status || p.Status != status || p.Title != web.Title(tt.want) || p.Detail == "" || p.RequestID == "" {
				t.Errorf("%s %s = %d %+v, want %d with title %q, a detail and the request id", tt.method, tt.path, resp.StatusCode, p, status, web.Title(tt.want))
			}
			if tt.header != "" && resp.Header.Get(tt.header) == "" {
				t.Errorf("%s %s: no %s header", tt.method, tt.path, tt.header)
			}
			apitest.CheckSecurityHeaders(t, tt.name, resp.Header)
		})
	}
}

// A request refused with 401 spends none of its address's create budget:
// only authenticated creates are counted.
func TestUnauthenticatedCreatesSpendNoBudget(t *testing.T) {
	s := newLinkServer(t, 2)
	for i := range 5 {
		if rec := s.do("POST", "/v1/links", `{"url":"https://example.com"}`, "Authorization", "Bearer wrong-token"); rec.Code != 401 {
			t.Fatalf("create %d with a wrong token = %d, want 401", i, rec.Code)
		}
	}
	for i := range 2 {
		if rec := s.create(fmt.Sprintf(`{"url":"https://example.com/%d"}`, i)); rec.Code != 201 {
			t.Errorf("authenticated create %d after five 401s = %d, want 201: %s", i, rec.Code, rec.Body)
		}
	}
}

// The idempotency scope is the caller requireToken established, a typed
// context value: log attributes a handler adds, whatever their names,
// cannot merge two clients' scopes.
func TestIdempotencyScopeIsTheTypedCaller(t *testing.T) {
	scopeOf := func(token string) string {
		var scope string
		h := httpapi.RequireToken(quietLog, "links", linkconfig.Tokens{tokenA, tokenB})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			for _, name := range []string{"token", web.CallerKey, "caller_id"} {
				ctx = logging.WithAttrs(ctx, slog.String(name, "same-for-everyone"))
			}
			scope = tokenScope(ctx)
		}))
		r := httptest.NewRequest("POST", "/", nil)
		r.Header.Set("Authorization", "Bearer "+token)
		h.ServeHTTP(httptest.NewRecorder(), r)
		return scope
	}
	a, b := scopeOf(tokenA), scopeOf(tokenB)
	if a == "" || a == b {
		t.Errorf("scopes of two tokens = %q, %q; want two different ones", a, b)
	}
}

// A client that sends its body slowly holds its place among the requests
// in flight no longer than the route's deadline: with HTTP_MAX_IN_FLIGHT=4,
// five authenticated creates dripping their bodies do not keep /version
// and the redirect at 503 past it.
func TestSlowBodiesFreeTheirSlots(t *testing.T) {
	const deadline = time.Second
	d, _, _ := testDeps(t)
	d.Config.MaxInFlight = 4
	d.Config.RequestTimeout = deadline
	d.Links = exampleDeps(linkconfig.Config{APITokens: linkconfig.Tokens{tokenA}, MaxPageSize: 5}, d.Log)
	if _, err := d.Links.Store.CreateLink(t.Context(), Link{Code: "zzzz2346", URL: "https://example.com/", CreatedAt: time.Now()}, nil); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(newServer(d))
	srv.Config.ReadTimeout = time.Minute // far past the route's deadline
	srv.Start()
	t.Cleanup(srv.Close)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	for range 5 {
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		fmt.Fprintf(conn, "POST /v1/links HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{", tokenA)
		go func() { // a byte every 50ms, until the test ends or the server hangs up
			for {
				select {
				case <-ctx.Done():
					return
				case <-time.After(50 * time.Millisecond):
				}
				if _, err := conn.Write([]byte(" ")); err != nil {
					return
				}
			}
		}()
		go func() { _, _ = bufio.NewReader(conn).ReadString('\n') }()
	}
	// The slow requests are in flight once /version is refused.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	waitFor := func(path string, want int, within time.Duration) int {
		t.Helper()
		var got int
		for end := time.Now().Add(within); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
			resp, err := client.Get(srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got = resp.StatusCode; got == want {
				break
			}
		}
		return got
	}
	if got := waitFor("/version", 503, 5*time.Second); got != 503 {
		t.Fatalf("/version with five slow bodies in flight = %d, want 503 (the cap is reached)", got)
	}
	// Well past the route's deadline (and well before the read timeout),
	// the slots are free again while the bodies still drip.
	time.Sleep(3 * deadline)
	for path, want := range map[string]int{"/version": 200, "/zzzz2346": 302} {
		if got := waitFor(path, want, 5*time.Second); got != want {
			t.Errorf("%s past the route's deadline = %d, want %d", path, got, want)
		}
	}
}

// mountFunc is a feature of a test's own: a function that mounts routes.
type mountFunc func(chi.Router)

func (m mountFunc) Mount(r chi.Router) { m(r) }
