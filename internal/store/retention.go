package store

import (
	"context"
	"time"
)

// Retention is implemented by stores that delete old finished work. It is
// a separate interface from Store so that the retention job asks only for
// what it uses.
type Retention interface {
	// RetentionDelete deletes, in one transaction, up to p.Limit events
	// received before p.Before (id order, after p.After) whose deliveries
	// are all finished — succeeded or cancelled, and dead only when the
	// event was also received before p.DeadBefore — together with their
	// deliveries and attempts, and up to p.Limit quarantined requests
	// received before p.Before. Events with live work (pending or in
	// flight) are never deleted. Callers repeat with After set to the
	// returned Next until Events and Quarantined are both below Limit.
	RetentionDelete(ctx context.Context, p RetentionParams) (RetentionResult, error)
}

// RetentionParams selects what one RetentionDelete call removes.
type RetentionParams struct {
	Before     time.Time // events and quarantined requests received before it
	DeadBefore time.Time // zero: events with a dead delivery are kept
	After      string    // resume after this event id ("" from the start)
	Limit      int       // per kind and call; default 500
}

// RetentionResult counts what one RetentionDelete call removed.
type RetentionResult struct {
	Events, Deliveries, Attempts, Quarantined int
	// Next is the last event id examined: pass it as After to continue
	// past events that must be kept without examining them again.
	Next string
}

// RetentionLimit is the default batch size.
func RetentionLimit(n int) int {
	if n <= 0 {
		return 500
	}
	return n
}
