// Package outcome holds the typed error with which a sender (or a
// transform) states what a failed attempt means — retry later, or never —
// instead of leaving it to the worker's reading of the error. It exists so
// that the dest package can state outcomes without importing deliver, which
// classifies them; deliver re-exports everything here under its own names.
package outcome

import (
	"errors"
	"fmt"
	"time"
)

// Error is an outcome stated explicitly. It may be wrapped; the worker
// finds it with errors.As.
type Error struct {
	Err        error
	Permanent  bool          // dead-letter without retrying
	RetryAfter time.Duration // retry no sooner than this; ignored when Permanent
	Class      string        // webhook.Class* to record; "" lets the classifier choose
}

func (e *Error) Error() string {
	switch {
	case e.Permanent:
		return "permanent: " + e.errString()
	case e.RetryAfter > 0:
		return fmt.Sprintf("retry after %v: %s", e.RetryAfter, e.errString())
	}
	return e.errString()
}

func (e *Error) errString() string {
	if e.Err == nil {
		return "delivery failed"
	}
	return e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Permanent marks err as a failure that retrying cannot fix: the delivery
// is dead-lettered at once. A nil err still yields a non-nil error.
func Permanent(err error) error { return &Error{Err: err, Permanent: true} }

// RetryAfter marks err as a failure to retry no sooner than d from now. A
// nil err still yields a non-nil error.
func RetryAfter(d time.Duration, err error) error { return &Error{Err: err, RetryAfter: d} }

// IsPermanent reports whether err, or an error it wraps, was marked
// permanent.
func IsPermanent(err error) bool {
	e, ok := errors.AsType[*Error](err)
	return ok && e.Permanent
}

// ErrNothingToSend means the delivery has nothing to deliver (its transform
// yielded no output): it is recorded as done without contacting the
// destination.
var ErrNothingToSend = errors.New("nothing to send: the transform yielded no output")
