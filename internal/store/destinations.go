package store

import (
	"context"
	"time"
)

// Destination statuses, persisted in the destination state table and
// shared by every node.
const (
	StatusActive   = "active"   // deliveries flow
	StatusPaused   = "paused"   // an operator paused it: deliveries accumulate
	StatusDisabled = "disabled" // auto-disabled (sustained failure or HTTP 410): deliveries accumulate
)

// DestinationState is a destination's persisted delivery state. A
// destination with no row is active, not failing and not tripped.
type DestinationState struct {
	Destination string
	Status      string    // StatusActive, StatusPaused or StatusDisabled
	Reason      string    // why it was paused or disabled (operator text or the failure)
	Since       time.Time // when Status last changed; zero if never
	// FailingSince is the first failure of the current unbroken run of
	// failures (zero after a success): the clock of auto-disable.
	FailingSince time.Time
	// BreakerOpenUntil is when a circuit breaker opened by some node lets
	// its first probe through; nodes that did not see the failures hold the
	// destination until then too.
	BreakerOpenUntil time.Time
}

// Held reports whether deliveries to the destination wait (paused or
// disabled).
func (d DestinationState) Held() bool { return d.Status == StatusPaused || d.Status == StatusDisabled }

// Destinations is the shared, persisted state of destinations: status
// (pause, disable), the failure clock, open breakers and the token bucket
// of each rate limit. It lives in the database so that every node of a
// cluster sees and enforces the same state, and it survives restarts.
// Both stores implement it; storetest proves them.
type Destinations interface {
	// DestinationStates returns the state rows that exist, by name.
	DestinationStates(ctx context.Context) ([]DestinationState, error)
	// DestinationSetStatus moves destination to status `to` if its current
	// status is one of from (a missing row is active); it returns the state
	// after the call and whether it changed. Becoming active clears the
	// failure clock and any open breaker, so a re-enabled destination gets
	// a fresh start.
	DestinationSetStatus(ctx context.Context, destination string, from []string, to, reason string, now time.Time) (DestinationState, bool, error)
	// DestinationFailing starts the failure clock at now unless it runs
	// already, and returns when the current run of failures began.
	DestinationFailing(ctx context.Context, destination string, now time.Time) (time.Time, error)
	// DestinationRecovered stops the failure clock (after a success).
	DestinationRecovered(ctx context.Context, destination string) error
	// DestinationBreakerOpen records that a breaker opened until `until`
	// (a zero time clears it).
	DestinationBreakerOpen(ctx context.Context, destination string, until time.Time) error
	// DestinationTakeTokens takes up to want tokens from the destination's
	// token bucket (refilled at rate per second, holding at most burst) and
	// returns how many it got; with none, wait is when the next one is due.
	// One bucket per destination serves the whole cluster.
	DestinationTakeTokens(ctx context.Context, destination string, want int, rate float64, burst int, now time.Time) (got int, wait time.Duration, err error)
	// DestinationReturnTokens puts n unused tokens back (capped at burst).
	DestinationReturnTokens(ctx context.Context, destination string, n, burst int) error
}

// Bucket is the token-bucket arithmetic both stores apply inside their
// transaction: from the stored level and time, it returns the level after
// taking, the tokens granted, and the wait for the next token when none
// was granted. A clock that went backwards refills nothing.
func Bucket(tokens float64, at, now time.Time, want int, rate float64, burst int) (level float64, got int, wait time.Duration) {
	if at.IsZero() {
		tokens = float64(burst)
	} else if el := now.Sub(at).Seconds(); el > 0 {
		tokens += el * rate
	}
	tokens = min(tokens, float64(burst))
	got = min(want, int(tokens))
	got = max(got, 0)
	tokens -= float64(got)
	if got == 0 && rate > 0 {
		wait = time.Duration((1 - tokens) / rate * float64(time.Second))
		wait = max(wait, time.Millisecond)
	}
	return tokens, got, wait
}
