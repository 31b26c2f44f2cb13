package kind

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestOf(t *testing.T) {
	notFound := New(NotFound, "note not found")
	tests := []struct {
		name       string
		err        error
		want       Kind
		wantDetail string
	}{
		{"plain error", errors.New("disk on fire"), Internal, ""},
		{"sentinel", notFound, NotFound, "note not found"},
		{"wrapped sentinel", fmt.Errorf("get note %q: %w", "abc", notFound), NotFound, "note not found"},
		{"outermost kind wins", Wrap(Conflict, "code taken", notFound), Conflict, "code taken"},
		{"formatted", Errorf(Invalid, "limit: must be at most %d", 100), Invalid, "limit: must be at most 100"},
		{"cancelled", fmt.Errorf("query: %w", context.Canceled), Canceled, ""},
		{"timed out", fmt.Errorf("query: %w", context.DeadlineExceeded), Timeout, ""},
		{"unavailable beside a cause", fmt.Errorf("ping: %w: %w", New(Unavailable, "database unavailable"), errors.New("connection refused")), Unavailable, "database unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Of(tt.err); got != tt.want {
				t.Errorf("Of(%v) = %v, want %v", tt.err, got, tt.want)
			}
			if got := Detail(tt.err); got != tt.wantDetail {
				t.Errorf("Detail(%v) = %q, want %q", tt.err, got, tt.wantDetail)
			}
		})
	}
}

func TestErrorKeepsCauseForTheLog(t *testing.T) {
	cause := errors.New("connection refused")
	err := Wrap(Unavailable, "a backing service is unavailable", cause)
	if !errors.Is(err, cause) {
		t.Errorf("errors.Is(%v, cause) = false, want the cause in the chain", err)
	}
	if got, want := err.Error(), "a backing service is unavailable: connection refused"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
