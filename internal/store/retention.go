package store

import (
	"context"
	"time"

	"github.com/hookyard/hookyard/internal/webhook"
)

// Retention is implemented by stores that delete old finished work. It is
// a separate interface from Store so that the retention job asks only for
// what it uses.
type Retention interface {
	// RetentionDelete examines, in one transaction, up to p.Limit events
	// received before p.Before (in id order, after p.After) and deletes
	// those whose deliveries are all finished — succeeded or cancelled,
	// and dead only when the event was also received before p.DeadBefore
	// — together with their deliveries and attempts; and it deletes up to
	// p.Limit quarantined requests received before p.Before. Events with
	// live work (pending or in flight) are never deleted. Callers repeat
	// with After set to the returned Next until Examined and Quarantined
	// are both below Limit.
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
	Examined                                  int // events looked at (deleted or kept)
	Events, Deliveries, Attempts, Quarantined int
	// Next is the last event id examined: pass it as After to continue.
	Next string
}

// RetentionLimit is the default batch size.
func RetentionLimit(n int) int {
	if n <= 0 {
		return 500
	}
	return n
}

// RetentionKeeps reports whether a delivery in state keeps its event
// (eventID) from deletion: live work always does, a dead letter unless
// the event is older than deadBound (an event-id bound; "" keeps every
// dead letter).
func RetentionKeeps(state webhook.State, eventID, deadBound string) bool {
	switch state {
	case webhook.StatePending, webhook.StateInFlight:
		return true
	case webhook.StateDead:
		return deadBound == "" || eventID >= deadBound
	}
	return false
}
