package links

import (
	"crypto/sha256"
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
