package links

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/dozen-go/dozen/internal/links/linkconfig"
	"github.com/dozen-go/dozen/internal/postgres"
	"github.com/dozen-go/dozen/internal/postgres/pgtest"
	"github.com/dozen-go/dozen/internal/store"
)

// TestIdempotencyClaimWithLostCommitReply creates with an Idempotency-Key
// through a proxy that forwards the claim's COMMIT to Postgres and cuts the
// connection before the reply comes back: the claim is stored, and the
// request cannot know it. The 503 that follows must tell the truth: a
// retry after its Retry-After creates the link, once. With the database
// reachable the claim is freed at once; when the database goes down right
// at the cut, Retry-After is when the claim lapses.
func TestIdempotencyClaimWithLostCommitReply(t *testing.T) {
	for _, outage := range []bool{false, true} {
		t.Run("outage="+strconv.FormatBool(outage), func(t *testing.T) {
			lostCommitReply(t, 0, outage)
		})
	}
}

// TestIdempotentCreateWithLostCommitReply does the same to the create's
// own commit, which stores the link and completes the claim: the retry
// gets the stored response replayed, and no second link is made.
func TestIdempotentCreateWithLostCommitReply(t *testing.T) {
	lostCommitReply(t, 1, false)
}

// lostCommitReply creates a link with an Idempotency-Key while the commit
// after the first skip ones loses its reply, with an outage starting at
// the cut or not, and retries it after the 503's Retry-After.
func lostCommitReply(t *testing.T, skip int, outage bool) {
	_, u := postgresStore(t)
	proxied, cutter := pgtest.NewCommitCutter(t, u)
	db, err := postgres.Open(t.Context(), proxied, postgres.Options{Attempts: 1, ConnectTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	d, _, _ := testDeps(t)
	d.Config.RequestTimeout = 3 * time.Second
	d.Links.Config.APITokens = linkconfig.Tokens{tokenA}
	d.Links.Store = NewStore(store.New(db.SQL))
	srv := httptest.NewServer(newServer(d))
	defer srv.Close()
	if outage {
		cutter.OnCut(func() { pgtest.SetDown(t, pgtest.Name(u), true) })
		t.Cleanup(func() { pgtest.SetDown(t, pgtest.Name(u), false) })
	}

	body := `{"url":"https://example.com/cut","code":"cutx"}`
	headers := []string{"Authorization", "Bearer " + tokenA, "Idempotency-Key", "cut-1"}
	cutter.ArmAfter(skip, 1)
	resp, got := send(t, http.DefaultClient, "POST", srv.URL+"/v1/links", body, headers...)
	if cutter.Cuts() != 1 {
		t.Fatalf("commits cut = %d, want 1 (response %d %s)", cutter.Cuts(), resp.StatusCode, got)
	}
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("create with a commit reply lost = %d %s, want 503", resp.StatusCode, got)
	}
	wait, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || wait < 1 || wait > 4 {
		t.Fatalf("Retry-After = %q, want 1 to 4 seconds: the claim lapses with the 3s request timeout", resp.Header.Get("Retry-After"))
	}
	if outage && wait < 2 {
		t.Errorf("Retry-After = %d with the claim held and the database down, want the 3s until it lapses", wait)
	}
	if outage {
		pgtest.SetDown(t, pgtest.Name(u), false)
	}
	time.Sleep(time.Duration(wait) * time.Second)
	resp, got = send(t, http.DefaultClient, "POST", srv.URL+"/v1/links", body, headers...)
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Location") != "/v1/links/cutx" {
		t.Fatalf("retry after Retry-After (%ds) = %d %s, want 201 for the link", wait, resp.StatusCode, got)
	}
	if replayed := resp.Header.Get("Idempotent-Replayed") == "true"; replayed != (skip > 0) {
		t.Errorf("retry replayed = %t, want %t: only a create whose own commit went through is replayed", replayed, skip > 0)
	}
	first := string(got)
	resp, got = send(t, http.DefaultClient, "POST", srv.URL+"/v1/links", body, headers...)
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Idempotent-Replayed") != "true" || string(got) != first {
		t.Errorf("second retry = %d %s, want the 201 replayed", resp.StatusCode, got)
	}
}
