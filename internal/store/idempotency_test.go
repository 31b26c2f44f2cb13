package store

import (
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/dozen-go/dozen/internal/idempotency"
)

// idempotencyContract checks the idempotency keys on either database.
func idempotencyContract(t *testing.T, s *Store) {
	t.Run("idempotency keys", func(t *testing.T) { idempotencyKeys(t, s) })
	t.Run("concurrent claims", func(t *testing.T) { concurrentClaims(t, s) })
}

func idempotencyKeys(t *testing.T, s *Store) {
	ctx := t.Context()
	now := time.Now()
	claim := func(key, body string, at time.Time) idempotency.Claim {
		return idempotency.Claim{Scope: "token:a", Key: key, ID: "claim-" + key, Hash: idempotency.RequestHash("POST", "/v1/things", []byte(body)),
			Now: at, TTL: time.Hour, StaleAfter: time.Minute}
	}
	check := func(name string, c idempotency.Claim, wantResp *idempotency.Response, wantErr error) {
		t.Helper()
		got, err := s.ClaimIdempotencyKey(ctx, c)
		if !errors.Is(err, wantErr) {
			t.Fatalf("%s: ClaimIdempotencyKey() error = %v, want %v", name, err, wantErr)
		}
		if !reflect.DeepEqual(got, wantResp) {
			show := func(r *idempotency.Response) string {
				if r == nil {
					return "nil"
				}
				return fmt.Sprintf("{Status:%d ContentType:%q Location:%q Body:%q}", r.Status, r.ContentType, r.Location, r.Body)
			}
			t.Errorf("%s: stored response = %s, want %s", name, show(got), show(wantResp))
		}
	}
	check("first claim", claim("k1", "a", now), nil, nil)
	check("same request while in flight", claim("k1", "a", now), nil, idempotency.ErrKeyInFlight)
	check("other request", claim("k1", "b", now), nil, idempotency.ErrKeyReused)
	check("same key, other scope", idempotency.Claim{Scope: "token:b", Key: "k1", Hash: []byte("x"), Now: now, TTL: time.Hour, StaleAfter: time.Minute}, nil, nil)

	resp := idempotency.Response{Status: 201, ContentType: "application/json", Location: "/v1/things/1", Body: []byte(`{"id":1}`)}
	var writeAs func(key, claimID string, fail error) error
	write := func(key string, fail error) error {
		return writeAs(key, "claim-"+key, fail)
	}
	writeAs = func(key, claimID string, fail error) error {
		return s.InTx(ctx, "write", func(tx *sql.Tx) error {
			if err := CompleteIdempotencyKey(ctx, tx, &idempotency.Completion{Scope: "token:a", Key: key, ClaimID: claimID, Response: resp}); err != nil {
				return err
			}
			return fail // a write that fails after the completion rolls both back
		})
	}
	if err := write("k1", nil); err != nil {
		t.Fatal(err)
	}
	check("replay", claim("k1", "a", now), &resp, nil)
	if err := s.ReleaseIdempotencyKey(ctx, "token:a", "k1", "claim-k1"); err != nil {
		t.Fatal(err)
	}
	check("a finished key is not released", claim("k1", "a", now), &resp, nil)

	// A failed write leaves nothing, not even the completion.
	check("claim k2", claim("k2", "a", now), nil, nil)
	failed := errors.New("insert failed")
	if err := write("k2", failed); !errors.Is(err, failed) {
		t.Fatalf("failing write = %v, want its error", err)
	}
	check("k2 still in flight", claim("k2", "a", now), nil, idempotency.ErrKeyInFlight)
	// Only the request that holds a claim completes or releases it.
	if err := writeAs("k2", "another-request", nil); !errors.Is(err, idempotency.ErrKeyInFlight) {
		t.Errorf("completing another request's claim = %v, want ErrKeyInFlight", err)
	}
	if err := s.ReleaseIdempotencyKey(ctx, "token:a", "k2", "another-request"); err != nil {
		t.Fatal(err)
	}
	check("k2 kept after another request's release", claim("k2", "a", now), nil, idempotency.ErrKeyInFlight)
	if err := s.ReleaseIdempotencyKey(ctx, "token:a", "k2", "claim-k2"); err != nil {
		t.Fatal(err)
	}
	check("k2 claimable after release", claim("k2", "a", now), nil, nil)

	check("stale claim taken over", claim("k2", "a", now.Add(2*time.Minute)), nil, nil)
	check("expired key reused for another request", claim("k1", "other", now.Add(2*time.Hour)), nil, nil)
	if err := write("k3", nil); !errors.Is(err, idempotency.ErrKeyInFlight) {
		t.Errorf("completing an unclaimed key = %v, want ErrKeyInFlight", err)
	}

	purged, err := s.PurgeIdempotencyKeys(ctx, now.Add(3*time.Hour))
	if err != nil || purged == 0 {
		t.Errorf("PurgeIdempotencyKeys(after every expiry) = %d, %v; want the keys purged", purged, err)
	}
	check("purged key claimable", claim("k1", "a", now.Add(3*time.Hour)), nil, nil)
}

// concurrentClaims races claims of one key: exactly one wins.
func concurrentClaims(t *testing.T, s *Store) {
	const n = 8
	var wg sync.WaitGroup
	results := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := s.ClaimIdempotencyKey(t.Context(), idempotency.Claim{Scope: "token:race", Key: "k", Hash: []byte("h"),
				Now: time.Now(), TTL: time.Hour, StaleAfter: time.Minute})
			results <- err
		})
	}
	wg.Wait()
	close(results)
	won := 0
	for err := range results {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, idempotency.ErrKeyInFlight):
			t.Errorf("concurrent claim error = %v, want nil or ErrKeyInFlight", err)
		}
	}
	if won != 1 {
		t.Errorf("%d of %d concurrent claims won, want exactly 1", won, n)
	}
}
