// Package store defines the Store interface — hookyard's one big seam — and
// the parameter types its methods take. Implementations live in sub-packages
// (sqlite, and postgres later) and are proven by the storetest conformance
// suite. Transactions never leave an implementation: every method is one
// atomic operation named by intent.
package store

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/hookyard/hookyard/internal/webhook"
)

// Store is the durable state of a hookyard node (or cluster).
//
// Errors: webhook.ErrNotFound for a missing id, webhook.ErrLeaseLost when a
// fenced write lost its lease, and an error wrapping webhook.ErrUnavailable
// when the database cannot commit (ingest answers 503 for it).
type Store interface {
	// Ingest stores ev and one delivery per element of ds in one durable
	// transaction (synced before it returns). If an event with the same
	// (source, dedup key) is already stored, nothing is written and the
	// existing event's id is returned with Duplicate set. ev.ID is assigned
	// by the caller.
	Ingest(ctx context.Context, ev *webhook.Event, ds []webhook.NewDelivery) (IngestResult, error)

	// DeliveryClaim leases up to p.Limit due deliveries of p.Destination:
	// pending ones whose next attempt is due, and in-flight ones whose lease
	// expired. Higher priority first, then oldest due first. Each claim
	// increments the delivery's lease token.
	DeliveryClaim(ctx context.Context, p ClaimParams) ([]webhook.Claimed, error)
	// DeliveryNextDue returns when the next live delivery of destination
	// becomes claimable (its due time or lease expiry); ok is false when it
	// has none.
	DeliveryNextDue(ctx context.Context, destination string) (due time.Time, ok bool, err error)

	// DeliverySucceed records a successful attempt and ends the delivery.
	DeliverySucceed(ctx context.Context, id string, leaseToken int64, a webhook.Attempt) error
	// DeliveryRetry records a failed attempt and schedules the next one.
	DeliveryRetry(ctx context.Context, id string, leaseToken int64, a webhook.Attempt, next time.Time) error
	// DeliveryDead records a failed attempt and dead-letters the delivery.
	DeliveryDead(ctx context.Context, id string, leaseToken int64, a webhook.Attempt) error
	// DeliveryRelease returns a leased delivery to the queue, due now, without
	// consuming an attempt (used at shutdown).
	DeliveryRelease(ctx context.Context, id string, leaseToken int64) error

	// DeliveryReplay makes the given terminal (dead, cancelled or succeeded)
	// deliveries pending again with a fresh attempt budget, due now. The
	// idempotency key is unchanged. It returns how many were replayed; ids
	// that are live or unknown are skipped.
	DeliveryReplay(ctx context.Context, ids []string, now time.Time) (int, error)
	// DeliveryCancel ends live deliveries without further attempts.
	DeliveryCancel(ctx context.Context, ids []string, now time.Time) (int, error)

	// DeliveryGet returns one delivery.
	DeliveryGet(ctx context.Context, id string) (webhook.Delivery, error)
	// DeliveryList lists deliveries matching f, newest first, with keyset
	// pagination: pass the returned cursor as f.Cursor for the next page.
	DeliveryList(ctx context.Context, f DeliveryFilter) (ds []webhook.Delivery, next string, err error)
	// DeliveryCount counts deliveries matching f (ignores Cursor and Limit).
	DeliveryCount(ctx context.Context, f DeliveryFilter) (int, error)
	// AttemptList returns a delivery's attempts, oldest first.
	AttemptList(ctx context.Context, deliveryID string) ([]webhook.Attempt, error)

	// EventGet returns one event with headers and body.
	EventGet(ctx context.Context, id string) (webhook.Event, error)
	// EventList lists events matching f, newest first, without bodies.
	EventList(ctx context.Context, f EventFilter) (es []webhook.Event, next string, err error)

	// Quarantine durably stores an authentic request that failed validation,
	// with the reason, so nothing authentic is silently lost.
	Quarantine(ctx context.Context, ev *webhook.Event, reason string) error
	// QuarantineList lists quarantined requests, newest first, without bodies
	// unless f.WithBody.
	QuarantineList(ctx context.Context, f QuarantineFilter) (qs []webhook.Quarantined, next string, err error)

	// QueueStats reports the live work and dead letters of every
	// destination that has any, for metrics and alerts.
	QueueStats(ctx context.Context, now time.Time) ([]QueueStat, error)

	// Ping checks that the store can write (readiness).
	Ping(ctx context.Context) error
	// Close flushes pending writes and releases the database.
	Close() error
}

// IngestResult is the outcome of Store.Ingest.
type IngestResult struct {
	EventID   string
	Duplicate bool
}

// ClaimParams selects and leases work for one destination.
type ClaimParams struct {
	Destination string
	Owner       string // worker/node identity, for operators
	Limit       int
	Lease       time.Duration
	Now         time.Time
	// Tiers restricts the priority tiers claimed: bit p set claims
	// priority p (TierHigh|TierNormal|TierLow). Zero claims every tier.
	Tiers uint8
	// MaxInFlight, when positive, caps the destination's live leases across
	// every node: the claim takes at most MaxInFlight minus the deliveries
	// in flight with an unexpired lease, counted and claimed under the
	// destination's state-row lock so concurrent claims cannot overshoot.
	MaxInFlight int
}

// Priority tier bits for ClaimParams.Tiers.
const (
	TierHigh   uint8 = 1 << webhook.PriorityHigh
	TierNormal uint8 = 1 << webhook.PriorityNormal
	TierLow    uint8 = 1 << webhook.PriorityLow
	TierAll          = TierHigh | TierNormal | TierLow
)

// DeliveryFilter narrows DeliveryList and DeliveryCount. Zero fields match all.
type DeliveryFilter struct {
	States      []webhook.State
	Destination string
	Route       string
	EventID     string
	// ErrorClasses matches the class of the last failed attempt
	// (webhook.Class*: "5xx", "timeout", …).
	ErrorClasses []string
	Since        time.Time // created at or after
	Until        time.Time // created before
	Cursor       string
	Limit        int // default 50, at most 1000
}

// EventFilter narrows EventList. Zero fields match all.
type EventFilter struct {
	Source   string
	Topic    string
	DedupKey string
	// Query finds an event by a provider's id: it matches the event id
	// exactly, or a dedup key (the provider's delivery id) by prefix.
	Query string
	// States keeps events with at least one delivery in one of the states.
	States []webhook.State
	Since  time.Time
	Until  time.Time
	Cursor string
	Limit  int // default 50, at most 1000
}

// QueueStat is one destination's queue at a moment.
type QueueStat struct {
	Destination string
	Due         int       // pending and due now (waiting for a worker)
	Scheduled   int       // pending, waiting for a retry time
	InFlight    int       // leased by a worker
	Dead        int       // dead-lettered
	OldestDue   time.Time // due time of the oldest due delivery; zero if none
}

// QuarantineFilter narrows QuarantineList.
type QuarantineFilter struct {
	Source   string
	Cursor   string
	Limit    int
	WithBody bool
}

// DeliveryID returns the id of the i-th delivery of an event. Delivery ids
// extend their event's id ("dlv_" + the event id without "evt_" + "." + i),
// so they sort in arrival order, the primary key alone finds an event's
// deliveries, and every store produces the same ids.
func DeliveryID(eventID string, i int) string {
	return "dlv_" + strings.TrimPrefix(eventID, "evt_") + "." + strconv.Itoa(i)
}

// DeliveryIDRange bounds the ids of an event's deliveries: lo <= id < hi
// in byte order.
func DeliveryIDRange(eventID string) (lo, hi string) {
	p := "dlv_" + strings.TrimPrefix(eventID, "evt_")
	return p + ".", p + "/" // '/' follows '.' in ASCII
}

// PrefixEnd is the smallest string above every string that starts with
// p, in byte order (both stores compare these columns bytewise).
func PrefixEnd(p string) string { return p + "\U0010FFFF" }

// PageLimit clamps a requested page size.
func PageLimit(n int) int {
	switch {
	case n <= 0:
		return 50
	case n > 1000:
		return 1000
	}
	return n
}
