// Package webhook holds hookyard's domain nouns — events, deliveries, attempts
// and their states — and the sentinel errors every layer translates. It uses
// the standard library only, so every other package may depend on it.
package webhook

import (
	"errors"
	"net/http"
	"time"
)

// Event is one webhook as it was received: the raw body byte for byte, the
// request headers, and what hookyard derived from them at ingest.
type Event struct {
	ID         string // hookyard's id, time-ordered ("evt_…")
	Source     string // configured source name (the {source} in /ingest/{source})
	Provider   string // provider scheme that verified it (shopify, stripe, …)
	Topic      string // provider event type (orders/create, payment_intent.succeeded, …)
	DedupKey   string // provider delivery/event id, or "sha256:<hex>" of the body
	ReceivedAt time.Time
	Headers    http.Header // as received, minus hop-by-hop headers
	Body       []byte
}

// State is where a delivery is in its life.
type State string

// Delivery states. Pending and InFlight are live (the queue); Succeeded,
// Dead and Cancelled are terminal until an operator replays.
const (
	StatePending   State = "pending"   // waiting for its due time
	StateInFlight  State = "inflight"  // leased by a worker
	StateSucceeded State = "succeeded" // destination accepted it
	StateDead      State = "dead"      // dead-lettered: permanent failure or attempts exhausted
	StateCancelled State = "cancelled" // an operator cancelled it
)

// Valid reports whether s is a known state.
func (s State) Valid() bool {
	switch s {
	case StatePending, StateInFlight, StateSucceeded, StateDead, StateCancelled:
		return true
	}
	return false
}

// Priority tiers; lower sorts first when claiming.
const (
	PriorityHigh   = 0
	PriorityNormal = 1
	PriorityLow    = 2
)

// NewDelivery is what routing decides for one (event, route) pair at ingest.
type NewDelivery struct {
	Destination string
	Route       string
	Priority    int
	// OrderingKey, when set, makes deliveries with the same key reach the
	// destination one at a time, in the order received.
	OrderingKey string
	// BlockOnDead makes a dead-lettered delivery hold back the later
	// deliveries of its ordering key until it is replayed or cancelled
	// (on_dead: block); by default the key moves on (skip).
	BlockOnDead bool
	MaxAttempts int
	// Version is the hash of the route and transform that produced it.
	Version string
}

// Delivery is one (event, route → destination) unit of work: the queue row.
type Delivery struct {
	ID             string
	EventID        string
	Destination    string
	Route          string
	State          State
	Priority       int
	OrderingKey    string
	BlockOnDead    bool
	Version        string
	Attempts       int // attempts used in the current budget (reset by replay)
	MaxAttempts    int
	NextAttemptAt  time.Time // next attempt while pending; lease expiry while in flight
	ReadyAt        time.Time // when the current attempt became due (unchanged by a claim)
	LeaseOwner     string
	LeaseToken     int64 // fencing token: incremented by every claim
	LastError      string
	LastErrorClass string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	CompletedAt    time.Time // zero unless succeeded, dead or cancelled
}

// IdempotencyKey is the key sent with every attempt and replay of this
// delivery. It is derived from the delivery id, which is fixed for the
// (event, route) pair, so retries and replays repeat it exactly.
func (d *Delivery) IdempotencyKey() string { return IdempotencyKey(d.ID) }

// IdempotencyKey returns the idempotency key for a delivery id.
func IdempotencyKey(deliveryID string) string { return "hy_" + deliveryID }

// Quarantined is an authentic request that failed validation (not JSON,
// too deeply nested, schema violation), kept for inspection instead of being
// routed. Its Event.ID carries the "qtn_" prefix.
type Quarantined struct {
	Event  Event
	Reason string
}

// Claimed is a leased delivery together with the event it carries.
type Claimed struct {
	Delivery Delivery
	Event    Event
}

// Attempt is the record of one try to deliver.
type Attempt struct {
	ID           int64
	DeliveryID   string
	Number       int // 1-based within the delivery's current budget
	StartedAt    time.Time
	Duration     time.Duration
	StatusCode   int    // 0 when no response arrived
	ErrorClass   string // "" on success; see the Class* constants
	Error        string
	ResponseBody []byte // at most MaxAttemptResponse bytes
}

// MaxAttemptResponse bounds the response body stored with an attempt.
const MaxAttemptResponse = 4 << 10

// Error classes recorded on attempts and used as metric labels.
const (
	ClassTimeout     = "timeout"
	ClassConnection  = "connection"
	ClassHTTP4xx     = "4xx"
	ClassHTTP429     = "429"
	ClassHTTP5xx     = "5xx"
	ClassHTTP3xx     = "3xx"
	ClassTransform   = "transform"
	ClassSSRFBlocked = "ssrf_blocked"
	ClassInternal    = "internal" // a panic or bug in hookyard itself
	// ClassBreakerOpen: dead-lettered without sending because the
	// destination's circuit breaker was open and its on_open is dead_letter.
	ClassBreakerOpen = "breaker_open"
)

// Sentinel errors, translated to HTTP status once per surface.
var (
	ErrNotFound       = errors.New("not found")
	ErrUnavailable    = errors.New("storage unavailable")
	ErrLeaseLost      = errors.New("lease lost: delivery was claimed by another worker")
	ErrUnauthorized   = errors.New("unauthorized")
	ErrForbidden      = errors.New("forbidden")
	ErrInvalid        = errors.New("invalid input")
	ErrTooLarge       = errors.New("body too large")
	ErrBadSignature   = errors.New("signature verification failed")
	ErrStaleTimestamp = errors.New("timestamp outside the allowed window")
)
