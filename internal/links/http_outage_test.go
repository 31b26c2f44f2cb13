package links

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dozen-go/dozen/internal/config"
	"github.com/dozen-go/dozen/internal/httpapi/apitest"
	"github.com/dozen-go/dozen/internal/idempotency"
	"github.com/dozen-go/dozen/internal/links/linkconfig"
	"github.com/dozen-go/dozen/internal/postgres"
	"github.com/dozen-go/dozen/internal/postgres/pgtest"
	"github.com/dozen-go/dozen/internal/schema"
	"github.com/dozen-go/dozen/internal/store"
	"github.com/dozen-go/dozen/migrations"
)

// postgresStore returns a store over a fresh, migrated Postgres database,
// and the database's URL for pgtest's outages.
func postgresStore(t *testing.T) (*Store, config.URL) {
	t.Helper()
	u := pgtest.NewDatabase(t)
	mdb, err := postgres.OpenMigrationDB(u, 5*time.Second, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	src, _ := migrations.FS(migrations.Postgres)
	m, err := schema.New(mdb, migrations.Postgres, src, 5*time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Up(t.Context()); err != nil {
		t.Fatal(err)
	}
	m.Close()
	db, err := postgres.Open(t.Context(), u, postgres.Options{Attempts: 1, ConnectTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return NewStore(store.New(db.SQL)), u
}

// TestDatabaseOutageIs503 runs a handler that reads from a real Postgres
// through the store while the database is cut off (its sessions
// terminated, new ones refused): the client gets 503 problem+json with
// Retry-After and none of the database's error text, and the same handler
// answers again once the database is back, with nothing restarted.
func TestDatabaseOutageIs503(t *testing.T) {
	st, u := postgresStore(t)
	if _, err := st.CreateLink(t.Context(), Link{Code: "abcd", URL: "https://example.com", CreatedAt: time.Now()}, nil); err != nil {
		t.Fatal(err)
	}

	d, _, _ := testDeps(t)
	d.Links.Store = st
	srv := httptest.NewServer(newServer(d))
	defer srv.Close()
	call := func() (*http.Response, string) {
		resp, err := http.Get(srv.URL + "/v1/links/abcd")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	if resp, _ := call(); resp.StatusCode != http.StatusOK {
		t.Fatalf("GET before the outage = %d, want 200", resp.StatusCode)
	}
	pgtest.SetDown(t, pgtest.Name(u), true)
	t.Cleanup(func() { pgtest.SetDown(t, pgtest.Name(u), false) })
	resp, body := call()
	var p apitest.Problem
	json.Unmarshal([]byte(body), &p)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Content-Type") != "application/problem+json" ||
		resp.Header.Get("Retry-After") == "" || p.Status != 503 {
		t.Errorf("GET during the outage = %d %v %s, want 503 problem+json with Retry-After", resp.StatusCode, resp.Header, body)
	}
	for _, leak := range []string{pgtest.Name(u), "accepting connections", "SQLSTATE", "127.0.0.1"} {
		if strings.Contains(body, leak) {
			t.Errorf("GET during the outage body = %s, shows %q", body, leak)
		}
	}

	pgtest.SetDown(t, pgtest.Name(u), false)
	if resp, body := call(); resp.StatusCode != http.StatusOK {
		t.Errorf("GET after the outage = %d %s, want 200 without a restart", resp.StatusCode, body)
	}
}

// outageAfterClaim is a store whose database goes down after the first
// claim of a key, before the link is written: that request fails, and so
// does the release of its claim.
type outageAfterClaim struct {
	*Store
	once *sync.Once
	down func()
}

func (s outageAfterClaim) CreateLink(ctx context.Context, l Link, done *idempotency.Completion) (Link, error) {
	s.once.Do(s.down)
	return s.Store.CreateLink(ctx, l, done)
}

// TestIdempotencyKeyAfterOutage creates with an Idempotency-Key while
// Postgres goes down between the claim and the write: the 503's
// Retry-After is when the claim lapses, and the retry it invites, with the
// database back, creates the link.
func TestIdempotencyKeyAfterOutage(t *testing.T) {
	st, u := postgresStore(t)
	d, _, _ := testDeps(t)
	d.Config.RequestTimeout = 2 * time.Second
	d.Links.Config.APITokens = linkconfig.Tokens{tokenA}
	d.Links.Store = outageAfterClaim{st, &sync.Once{}, func() { pgtest.SetDown(t, pgtest.Name(u), true) }}
	t.Cleanup(func() { pgtest.SetDown(t, pgtest.Name(u), false) })
	srv := httptest.NewServer(newServer(d))
	defer srv.Close()

	body := `{"url":"https://example.com/outage","code":"outage"}`
	headers := []string{"Authorization", "Bearer " + tokenA, "Idempotency-Key", "outage-1"}
	resp, got := send(t, http.DefaultClient, "POST", srv.URL+"/v1/links", body, headers...)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("create during the outage = %d %s, want 503", resp.StatusCode, got)
	}
	wait, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || wait < 1 || wait > 3 {
		t.Fatalf("Retry-After = %q, want 1 to 3 seconds: the claim lapses with the 2s request timeout", resp.Header.Get("Retry-After"))
	}

	pgtest.SetDown(t, pgtest.Name(u), false)
	time.Sleep(time.Duration(wait) * time.Second)
	resp, got = send(t, http.DefaultClient, "POST", srv.URL+"/v1/links", body, headers...)
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Location") != "/v1/links/outage" {
		t.Errorf("retry after Retry-After = %d %s (Location %q), want 201 creating the link", resp.StatusCode, got, resp.Header.Get("Location"))
	}
}
