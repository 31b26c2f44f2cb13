package links

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dozen-go/dozen/internal/cache"
	"github.com/dozen-go/dozen/internal/config"
	"github.com/dozen-go/dozen/internal/httpapi"
	"github.com/dozen-go/dozen/internal/httpapi/apitest"
	"github.com/dozen-go/dozen/internal/idempotency"
	"github.com/dozen-go/dozen/internal/links/linkconfig"
)

// memStore is an in-memory LinkStore for handler unit tests. The real
// stores are tested against the same behaviour in internal/store.
type memStore struct {
	mu     sync.Mutex
	nextID int64
	links  []Link
	keys   map[string]*memKey
	reads  int
}

type memKey struct {
	hash    []byte
	claimID string
	resp    *idempotency.Response
}

func newMemStore() *memStore { return &memStore{keys: map[string]*memKey{}} }

func (s *memStore) CreateLink(_ context.Context, l Link, done *idempotency.Completion) (Link, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range s.links {
		if x.Code == l.Code {
			return Link{}, ErrCodeTaken
		}
	}
	s.nextID++
	l.ID = s.nextID
	s.links = append(s.links, l)
	if done != nil {
		resp := done.Response
		s.keys[done.Scope+"\x00"+done.Key].resp = &resp
	}
	return l, nil
}

func (s *memStore) Link(_ context.Context, code string) (Link, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	for _, x := range s.links {
		if x.Code == code {
			return x, nil
		}
	}
	return Link{}, ErrNotFound
}

func (s *memStore) ListLinks(_ context.Context, after int64, limit int) ([]Link, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Link
	for _, x := range s.links {
		if x.ID > after && len(out) < limit {
			out = append(out, x)
		}
	}
	return out, nil
}

func (s *memStore) DeleteLink(_ context.Context, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, x := range s.links {
		if x.Code == code {
			s.links = slices.Delete(s.links, i, i+1)
			return nil
		}
	}
	return ErrNotFound
}

func (s *memStore) ClaimIdempotencyKey(_ context.Context, c idempotency.Claim) (*idempotency.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[c.Scope+"\x00"+c.Key]
	switch {
	case !ok:
		s.keys[c.Scope+"\x00"+c.Key] = &memKey{hash: c.Hash, claimID: c.ID}
		return nil, nil
	case !bytes.Equal(k.hash, c.Hash):
		return nil, idempotency.ErrKeyReused
	case k.resp == nil:
		return nil, idempotency.ErrKeyInFlight
	}
	return k.resp, nil
}

func (s *memStore) ReleaseIdempotencyKey(_ context.Context, scope, key, claimID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k := s.keys[scope+"\x00"+key]; k != nil && k.resp == nil && k.claimID == claimID {
		delete(s.keys, scope+"\x00"+key)
	}
	return nil
}

// clickLog is a ClickCounter that remembers the ids.
type clickLog struct {
	mu  sync.Mutex
	ids []int64
}

func (c *clickLog) Record(_ context.Context, id int64) {
	c.mu.Lock()
	c.ids = append(c.ids, id)
	c.mu.Unlock()
}

// exampleDeps are the link routes' dependencies over in-memory fakes.
func exampleDeps(cfg linkconfig.Config, log *slog.Logger) Feature {
	return Feature{
		Config:         cfg,
		IdempotencyTTL: time.Hour,
		Store:          newMemStore(),
		Cache:          cache.NewLocal[CachedLink](1000, time.Minute),
		Clicks:         &clickLog{},
		CreateLimit:    httpapi.NewRateLimit(log, "create", 10, time.Minute, nil),
		Now:            time.Now,
	}
}

const (
	tokenA = "token-a-0123456789abcdef"
	tokenB = "token-b-0123456789abcdef"
)

// linkServer is the whole HTTP stack over in-memory link storage.
type linkServer struct {
	h      http.Handler
	store  *memStore
	clicks *clickLog
	now    time.Time
}

func newLinkServer(t *testing.T, createLimit int) *linkServer {
	t.Helper()
	d, _, _ := testDeps(t)
	s := &linkServer{store: newMemStore(), clicks: &clickLog{}, now: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	d.Links = Feature{
		Config: linkconfig.Config{APITokens: linkconfig.Tokens{tokenA, tokenB}, MaxPageSize: 5}, IdempotencyTTL: time.Hour,
		Store:       s.store,
		Cache:       cache.NewLocal[CachedLink](1000, time.Minute),
		Clicks:      s.clicks,
		CreateLimit: httpapi.NewRateLimit(d.Log, "create", createLimit, time.Minute, nil),
		Now:         func() time.Time { return s.now },
	}
	s.h = newServer(d)
	return s
}

// do sends a request through the stack. body "" sends none; headers are
// name, value pairs.
func (s *linkServer) do(method, path, body string, headers ...string) *httptest.ResponseRecorder {
	var r *http.Request
	if body == "" {
		r = httptest.NewRequest(method, path, nil)
	} else {
		r = httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, r)
	return rec
}

func (s *linkServer) create(body string, headers ...string) *httptest.ResponseRecorder {
	return s.do("POST", "/v1/links", body, append([]string{"Authorization", "Bearer " + tokenA}, headers...)...)
}

func TestCreateLinkInput(t *testing.T) {
	t.Parallel() // it waits on timeouts: let the package's other tests run meanwhile
	tests := []struct {
		name       string
		body       string
		headers    []string
		wantStatus int
		wantDetail string
	}{
		{"ok", `{"url":"https://example.com/a"}`, nil, 201, ""},
		{"ok with code and expiry", `{"url":"https://example.com","code":"mine","expires_at":"2026-06-01T00:00:00Z"}`, nil, 201, ""},
		{"no token", `{"url":"https://example.com"}`, []string{"Authorization", ""}, 401, "bearer token"},
		{"wrong token", `{"url":"https://example.com"}`, []string{"Authorization", "Bearer nope-nope-nope-nope"}, 401, "not valid"},
		{"basic auth", `{"url":"https://example.com"}`, []string{"Authorization", "Basic dG9rZW4tYQ=="}, 401, "bearer token"},
		{"javascript", `{"url":"javascript:alert(1)"}`, nil, 400, "url: must be an absolute http or https URL"},
		{"relative", `{"url":"/x"}`, nil, 400, "url:"},
		{"credentials", `{"url":"https://u:p@example.com"}`, nil, 400, "url: must not contain credentials"},
		{"too long", `{"url":"https://example.com/` + strings.Repeat("a", MaxURLLength) + `"}`, nil, 400, "url: must be at most"},
		{"missing url", `{}`, nil, 400, "url: is required"},
		{"bad code", `{"url":"https://example.com","code":"no/slashes"}`, nil, 400, "code:"},
		{"reserved code", `{"url":"https://example.com","code":"readyz"}`, nil, 400, "code: is reserved"},
		{"expiry in the past", `{"url":"https://example.com","expires_at":"2020-01-01T00:00:00Z"}`, nil, 400, "expires_at"},
		{"expiry not a time", `{"url":"https://example.com","expires_at":"tomorrow"}`, nil, 400, ""},
		{"client sets clicks", `{"url":"https://example.com","clicks":99}`, nil, 400, `unknown field "clicks"`},
		{"client sets id", `{"url":"https://example.com","ID":7}`, nil, 400, `unknown field "ID"`},
		{"client sets created_at", `{"url":"https://example.com","created_at":"2020-01-01T00:00:00Z"}`, nil, 400, "unknown field"},
		{"url in other case", `{"url":"https://a.example","URL":"javascript:x"}`, nil, 400, `unknown field "URL"`},
		{"duplicate url", `{"url":"https://a.example","url":"javascript:x"}`, nil, 400, "more than once"},
		{"wrong type", `{"url":42}`, nil, 400, `field "url" must be a JSON string`},
		{"null", `null`, nil, 400, "JSON object"},
		{"trailing data", `{"url":"https://example.com"} x`, nil, 400, ""},
		{"two objects", `{"url":"https://example.com"}{}`, nil, 400, "nothing after it"},
		{"wrong content type", `{"url":"https://example.com"}`, []string{"Content-Type", "text/plain"}, 415, "Content-Type"},
		{"oversized body", `{"url":"https://example.com","code":"` + strings.Repeat("a", 9000) + `"}`, nil, 413, "larger than"},
		{"bad idempotency key", `{"url":"https://example.com"}`, []string{"Idempotency-Key", "has space"}, 400, "Idempotency-Key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newLinkServer(t, 1000)
			rec := s.create(tt.body, tt.headers...)
			if rec.Code != tt.wantStatus {
				t.Fatalf("POST /v1/links %s = %d %s, want %d", tt.body, rec.Code, rec.Body, tt.wantStatus)
			}
			if tt.wantStatus == 201 {
				var l Link
				json.Unmarshal(rec.Body.Bytes(), &l)
				if rec.Header().Get("Location") != "/v1/links/"+l.Code || ValidateCode(l.Code) != nil {
					t.Errorf("created %+v with Location %q, want a valid code and its location", l, rec.Header().Get("Location"))
				}
				return
			}
			p := apitest.DecodeProblem(t, rec.Result())
			if !strings.Contains(p.Detail, tt.wantDetail) {
				t.Errorf("problem detail = %q, want it to contain %q", p.Detail, tt.wantDetail)
			}
			if len(s.store.links) != 0 {
				t.Errorf("a refused request stored %d links", len(s.store.links))
			}
		})
	}
}

func TestCreateLinkCodeTaken(t *testing.T) {
	s := newLinkServer(t, 1000)
	if rec := s.create(`{"url":"https://a.example","code":"mine"}`); rec.Code != 201 {
		t.Fatalf("first create = %d", rec.Code)
	}
	rec := s.create(`{"url":"https://b.example","code":"mine"}`)
	if rec.Code != 409 {
		t.Errorf("create with a taken code = %d, want 409", rec.Code)
	}
}

func TestIdempotency(t *testing.T) {
	s := newLinkServer(t, 1000)
	body := `{"url":"https://example.com/once"}`
	first := s.create(body, "Idempotency-Key", "k1")
	second := s.create(body, "Idempotency-Key", "k1")
	if first.Code != 201 || second.Code != 201 {
		t.Fatalf("create twice with one key = %d, %d; want 201, 201", first.Code, second.Code)
	}
	if first.Body.String() != second.Body.String() {
		t.Errorf("replayed body = %s, want the first answer's %s", second.Body, first.Body)
	}
	if second.Header().Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay lacks Idempotent-Replayed: true")
	}
	for _, h := range []string{"Location", "Content-Type"} {
		if got, want := second.Header().Get(h), first.Header().Get(h); got != want || want == "" {
			t.Errorf("replayed %s = %q, want %q as first sent", h, got, want)
		}
	}
	if n := len(s.store.links); n != 1 {
		t.Errorf("links stored = %d, want 1", n)
	}

	if rec := s.create(`{"url":"https://example.com/other"}`, "Idempotency-Key", "k1"); rec.Code != 422 {
		t.Errorf("same key, other body = %d, want 422", rec.Code)
	}

	// Another token's key of the same name is another key.
	rec := s.do("POST", "/v1/links", body, "Authorization", "Bearer "+tokenB, "Idempotency-Key", "k1")
	if rec.Code != 201 || rec.Header().Get("Idempotent-Replayed") != "" || len(s.store.links) != 2 {
		t.Errorf("same key from another token = %d (replayed %q), want a fresh 201", rec.Code, rec.Header().Get("Idempotent-Replayed"))
	}

	// A claim held by a request still running.
	s.store.ClaimIdempotencyKey(t.Context(), idempotency.Claim{Scope: tokenScopeOf(tokenA), Key: "busy",
		Hash: idempotency.RequestHash("POST", "/v1/links", []byte(body))})
	if rec := s.create(body, "Idempotency-Key", "busy"); rec.Code != 409 || rec.Header().Get("Retry-After") == "" {
		t.Errorf("key in flight = %d, want 409 with Retry-After", rec.Code)
	}

	// A failed request releases its key: the retry runs again.
	s.create(`{"url":"https://example.com","code":"taken"}`)
	if rec := s.create(`{"url":"https://example.com/x","code":"taken"}`, "Idempotency-Key", "k2"); rec.Code != 409 {
		t.Fatalf("create with taken code = %d, want 409", rec.Code)
	}
	s.store.DeleteLink(t.Context(), "taken")
	if rec := s.create(`{"url":"https://example.com/x","code":"taken"}`, "Idempotency-Key", "k2"); rec.Code != 201 {
		t.Errorf("retry after a failed attempt = %d, want 201", rec.Code)
	}
}

// tokenScopeOf is the scope requireToken gives a token.
func tokenScopeOf(token string) string {
	var scope string
	h := httpapi.RequireToken(slog.New(slog.DiscardHandler), "links", linkconfig.Tokens{config.Secret(token)})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scope = tokenScope(r.Context())
	}))
	r := httptest.NewRequest("POST", "/", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	h.ServeHTTP(httptest.NewRecorder(), r)
	return scope
}

func TestRateLimit(t *testing.T) {
	s := newLinkServer(t, 3)
	for i := range 3 {
		if rec := s.create(fmt.Sprintf(`{"url":"https://example.com/%d"}`, i)); rec.Code != 201 {
			t.Fatalf("create %d under the limit = %d", i, rec.Code)
		}
	}
	// A spoofed X-Forwarded-For does not make a new client: no proxy is
	// trusted by default.
	rec := s.create(`{"url":"https://example.com/over"}`, "X-Forwarded-For", "203.0.113.9")
	if rec.Code != 429 || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("create over the limit = %d (Retry-After %q), want 429 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
	}
	apitest.DecodeProblem(t, rec.Result())
	if n := len(s.store.links); n != 3 {
		t.Errorf("links stored = %d, want 3", n)
	}
}

func TestRedirect(t *testing.T) {
	s := newLinkServer(t, 1000)
	s.create(`{"url":"https://example.com/target","code":"go2it"}`)
	s.create(`{"url":"https://example.com/old","code":"expd","expires_at":"2026-05-01T13:00:00Z"}`)

	for range 3 {
		rec := s.do("GET", "/go2it", "")
		if rec.Code != 302 || rec.Header().Get("Location") != "https://example.com/target" {
			t.Fatalf("GET /go2it = %d Location %q, want 302 to the target", rec.Code, rec.Header().Get("Location"))
		}
		apitest.CheckSecurityHeaders(t, "the redirect", rec.Result().Header)
	}
	if s.store.reads != 1 {
		t.Errorf("store read %d times for 3 redirects, want 1 (then the cache)", s.store.reads)
	}
	if rec := s.do("HEAD", "/go2it", ""); rec.Code != 302 {
		t.Fatalf("HEAD /go2it = %d, want 302", rec.Code)
	}
	if len(s.clicks.ids) != 3 {
		t.Errorf("clicks recorded = %d, want 3: the GETs, not the HEAD", len(s.clicks.ids))
	}

	s.now = s.now.Add(2 * time.Hour)
	if rec := s.do("GET", "/expd", ""); rec.Code != 410 {
		t.Errorf("expired link = %d, want 410", rec.Code)
	}
	for _, path := range []string{"/nope", "/x", "/a%2Fb"} {
		if rec := s.do("GET", path, ""); rec.Code != 404 {
			t.Errorf("GET %s = %d, want 404", path, rec.Code)
		}
	}

	if rec := s.do("DELETE", "/v1/links/go2it", ""); rec.Code != 401 {
		t.Errorf("DELETE without a token = %d, want 401", rec.Code)
	}
	if rec := s.do("DELETE", "/v1/links/go2it", "", "Authorization", "Bearer "+tokenA); rec.Code != 204 {
		t.Fatalf("DELETE = %d, want 204", rec.Code)
	}
	if rec := s.do("GET", "/go2it", ""); rec.Code != 404 {
		t.Errorf("redirect after delete = %d, want 404: the cache must be invalidated", rec.Code)
	}
	if rec := s.do("DELETE", "/v1/links/go2it", "", "Authorization", "Bearer "+tokenA); rec.Code != 404 {
		t.Errorf("DELETE again = %d, want 404", rec.Code)
	}
}

func TestGetAndListLinks(t *testing.T) {
	s := newLinkServer(t, 1000)
	var codes []string
	for i := range 7 {
		rec := s.create(fmt.Sprintf(`{"url":"https://example.com/%d"}`, i))
		var l Link
		json.Unmarshal(rec.Body.Bytes(), &l)
		codes = append(codes, l.Code)
	}
	if rec := s.do("GET", "/v1/links/"+codes[0], ""); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"clicks":0`) {
		t.Errorf("GET a link = %d %s, want 200 with clicks", rec.Code, rec.Body)
	}
	if rec := s.do("GET", "/v1/links/nothere", ""); rec.Code != 404 {
		t.Errorf("GET an unknown link = %d, want 404", rec.Code)
	}

	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		rec := s.do("GET", "/v1/links?limit=3&cursor="+cursor, "")
		if rec.Code != 200 {
			t.Fatalf("list = %d %s", rec.Code, rec.Body)
		}
		var page linkPage
		json.Unmarshal(rec.Body.Bytes(), &page)
		for _, l := range page.Links {
			got = append(got, l.Code)
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	if !slices.Equal(got, codes) {
		t.Errorf("paged codes = %q, want %q", got, codes)
	}

	for _, q := range []string{"limit=0", "limit=6", "limit=x", "cursor=!!!", "cursor=bm9wZQ"} {
		if rec := s.do("GET", "/v1/links?"+q, ""); rec.Code != 400 {
			t.Errorf("GET /v1/links?%s = %d, want 400", q, rec.Code)
		}
	}
}
