// Package kind sorts errors into the kinds of failure a client is told
// about: the request was invalid, the thing is not there, a backing
// service is down, and so on. Code that fails returns or wraps an *Error
// of the right kind; the HTTP layer maps each kind to a status in one
// table, so no handler decides a status itself and no lower layer knows
// about HTTP.
package kind

import (
	"context"
	"errors"
	"fmt"
)

// Kind is a kind of failure. The zero Kind is Internal.
type Kind int

// The kinds of failure. Each says whose fault it is and whether a retry
// may help, which is what a client needs to know.
const (
	// Internal is a fault of the service: a bug, or a failure it did not
	// foresee. The client learns nothing more than that.
	Internal Kind = iota
	// Invalid means the request is malformed or breaks a rule.
	Invalid
	// Unauthenticated means the request carries no valid credentials.
	Unauthenticated
	// NotFound means what the request names does not exist.
	NotFound
	// Conflict means the request clashes with the current state, such as
	// a unique name already taken or the same operation in progress.
	Conflict
	// Gone means what the request names existed and no longer does.
	Gone
	// NotAllowed means what the request names exists but does not take
	// the operation asked of it, such as a method a resource lacks.
	NotAllowed
	// TooLarge means the request body is over the size allowed.
	TooLarge
	// Unsupported means the request body is in a media type or encoding
	// the service does not take.
	Unsupported
	// Unprocessable means the request is well-formed but cannot be
	// carried out as it stands, such as a key reused for another request.
	Unprocessable
	// Unavailable means a backing service is down or refused: the same
	// request may succeed shortly.
	Unavailable
	// Canceled means the request was given up on: the client went away,
	// or shutdown cut it off.
	Canceled
	// Timeout means the request ran out of time.
	Timeout
	// RateLimited means the client sent more requests than its budget
	// allows: the same request may succeed once the budget refills.
	RateLimited
)

var names = [...]string{
	Internal: "internal", Invalid: "invalid", Unauthenticated: "unauthenticated", NotFound: "not_found",
	Conflict: "conflict", Gone: "gone", NotAllowed: "not_allowed", TooLarge: "too_large", Unsupported: "unsupported",
	Unprocessable: "unprocessable", Unavailable: "unavailable", Canceled: "canceled", Timeout: "timeout",
	RateLimited: "rate_limited",
}

// String names the kind in logs.
func (k Kind) String() string {
	if k < 0 || int(k) >= len(names) {
		return fmt.Sprintf("kind(%d)", int(k))
	}
	return names[k]
}

// Error is a failure of a kind. Detail is written for the client: it says
// what was wrong with the request and nothing about the service's
// insides. Err, the cause, is for the log only.
type Error struct {
	Kind   Kind
	Detail string
	Err    error
}

func (e *Error) Error() string {
	if e.Err == nil {
		return e.Detail
	}
	return e.Detail + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error of kind k whose detail is msg. A sentinel made
// with New is compared with errors.Is, as any other.
func New(k Kind, msg string) error { return &Error{Kind: k, Detail: msg} }

// Errorf returns an error of kind k whose detail is formatted from format
// and args, as fmt.Sprintf does.
func Errorf(k Kind, format string, args ...any) error {
	return &Error{Kind: k, Detail: fmt.Sprintf(format, args...)}
}

// Wrap returns an error of kind k with the client's detail msg and err as
// its cause.
func Wrap(k Kind, msg string, err error) error { return &Error{Kind: k, Detail: msg, Err: err} }

// Of returns the kind of err: that of the first *Error in its chain;
// Canceled or Timeout for a context's errors; Internal for any other.
func Of(err error) Kind {
	e, ok := asError(err)
	switch {
	case ok:
		return e.Kind
	case errors.Is(err, context.Canceled):
		return Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return Timeout
	}
	return Internal
}

// Detail returns the client's detail of err: that of the first *Error in
// its chain, or "" when it has none.
func Detail(err error) string {
	if e, ok := asError(err); ok {
		return e.Detail
	}
	return ""
}

// asError returns the first *Error in err's chain.
func asError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
