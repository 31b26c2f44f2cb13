// Package idempotency lets a client retry a write without doing it twice
// (the Idempotency-Key header of draft-ietf-httpapi-idempotency-key-header):
// the first request under a key claims it, and records its response in
// the same transaction as its write; a retry with the same key and request
// gets that response replayed, one with another request is refused, and
// one that comes while the first is still running is told to wait.
//
// This package holds the rules and the HTTP side; the keys live in the
// service's database (store.ClaimIdempotencyKey and its neighbours, table
// idempotency_keys). The example's POST /v1/links shows the whole flow.
package idempotency

import (
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/dozen-go/dozen/internal/kind"
)

// Errors of idempotent requests.
var (
	// ErrKeyReused means the Idempotency-Key was used before with another
	// request.
	ErrKeyReused = kind.New(kind.Unprocessable, "Idempotency-Key was already used with a different request")
	// ErrKeyInFlight means a request with the same key is being served.
	ErrKeyInFlight = kind.New(kind.Conflict, "a request with this Idempotency-Key is in progress; retry later")
)

// Claim asks to serve a request under an idempotency key. Keys are scoped,
// so that two clients cannot see or block each other's keys.
type Claim struct {
	Scope string
	Key   string
	// ID identifies the request that makes the claim, a random value of
	// its own: only it completes or releases the claim, so a request that
	// cannot tell whether its claim was stored (the reply to its commit
	// was lost) can free it without freeing another request's.
	ID string
	// Hash identifies the request: the same key with another hash is a
	// client error, not a replay.
	Hash []byte
	Now  time.Time
	// TTL is how long the key, and the response stored under it, live.
	TTL time.Duration
	// StaleAfter is when an unfinished claim may be taken over: the
	// request that made it can no longer finish, because its deadline
	// passed or its process died. Give the request's timeout, so that a
	// claim whose release failed (the database was down) lapses with the
	// request's deadline.
	StaleAfter time.Duration
}

// Response is a response stored under an idempotency key, to be replayed
// as it was first sent: its status, the headers that describe the body
// and where it points, and the body.
type Response struct {
	Status      int
	ContentType string
	Location    string // "" when the response had none
	Body        []byte
}

// Completion records the response of a claimed key in the same
// transaction as the write it describes, so that either both happen or
// neither does.
type Completion struct {
	Scope, Key string
	ClaimID    string // the Claim's ID
	Response
}

// RequestHash identifies an idempotent request by its method, path and
// body.
func RequestHash(method, path string, body []byte) []byte {
	h := sha256.New()
	h.Write([]byte(method))
	h.Write([]byte{0})
	h.Write([]byte(path))
	h.Write([]byte{0})
	h.Write(body)
	return h.Sum(nil)
}

// Header is the request header that carries the key.
const Header = "Idempotency-Key"

// Key returns the request's idempotency key, "" when it has none, or an
// Invalid error when the key is not 1 to 255 visible ASCII characters.
func Key(r *http.Request) (string, error) {
	k := r.Header.Get(Header)
	if len(k) > 255 {
		return "", errBadKey
	}
	for i := range len(k) {
		if k[i] < '!' || k[i] > '~' {
			return "", errBadKey
		}
	}
	return k, nil
}

var errBadKey = kind.New(kind.Invalid, "Idempotency-Key header must be 1 to 255 visible ASCII characters")

// Write writes resp as it was stored, so that a replay carries what the
// first answer did: status, Content-Type, Location and body.
func Write(w http.ResponseWriter, resp *Response) {
	h := w.Header()
	h.Set("Content-Type", resp.ContentType)
	if resp.Location != "" {
		h.Set("Location", resp.Location)
	}
	w.WriteHeader(resp.Status)
	_, _ = w.Write(resp.Body) //nolint:gosec // a response this service rendered and stored, replayed with its own Content-Type
}

// Release frees the key of a request that failed with failure before it
// wrote anything, with release, and returns failure, so that a retry can
// claim the key at once. A claim that failed is released the same way:
// it may have been stored with only the reply lost. When release fails
// too (the database is down),
// it returns an Unavailable error instead and sets Retry-After on w to
// when the claim lapses by itself: a retry before then would find the key
// still in progress.
func Release(w http.ResponseWriter, r *http.Request, log *slog.Logger, release func(context.Context) error, lapses time.Time, failure error) error {
	// Past lapses the claim is free anyway; trying longer gains nothing.
	ctx, cancel := context.WithDeadline(context.WithoutCancel(r.Context()), lapses)
	defer cancel()
	err := release(ctx)
	if err == nil {
		return failure
	}
	log.LogAttrs(r.Context(), slog.LevelWarn, "release idempotency key; it lapses by itself", slog.String("error", err.Error()))
	wait := int(math.Ceil(time.Until(lapses).Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(max(wait, 1)))
	return kind.Wrap(kind.Unavailable, "a backing service is unavailable; retry after the Retry-After header's seconds", errors.Join(failure, err))
}
