// Package reconcile finds the events a provider never delivered and
// backfills them. Providers deliver at least once, but not always: GitHub
// never retries a failed delivery, Shopify drops a subscription after
// repeated failures, and every provider has outages. A run lists the
// provider's events (or changed resources) for a window through its API,
// compares each one's dedup key with the events the source has received,
// and for each gap builds a synthetic event from the API object — marked
// with the header Hookyard-Origin: reconcile and keyed with the dedup key
// the real webhook carries, so a late real webhook is a duplicate — and
// stores it through the normal pipeline (routes, deliveries).
//
// A run is recorded in the store after every page with the provider's
// cursor, so a run that a crash interrupted resumes from its last page.
// One run per source runs at a time across nodes (a named cluster lock),
// and only the leader schedules them.
package reconcile

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/hookyard/hookyard/internal/store"
)

// Item is one provider object listed for the window.
type Item struct {
	// Key is the dedup key the real webhook for this object carries (for
	// Stripe the event id, for GitHub the delivery GUID); a backfilled event
	// is stored under it.
	Key string
	// AltKeys also count as received (WooCommerce: the same change sent as
	// order.created or order.updated).
	AltKeys []string
	Topic   string
	// Body and Header are the synthetic webhook; a Fetcher fills them for
	// providers whose list does not carry the payload.
	Body   []byte
	Header http.Header
	// Ref is the provider's id for fetching or redelivering the object.
	Ref string
	// At is when the provider created the event (zero: unknown); an
	// ordered source's backfills are stored oldest first by it.
	At time.Time
}

// Page is one page of a listing. Next is the cursor of the following page;
// empty means the listing is complete.
type Page struct {
	Items []Item
	Next  string
}

// Lister lists a provider's objects in [since, until). cursor is "" for
// the first page, then a Page.Next.
type Lister interface {
	List(ctx context.Context, since, until time.Time, cursor string) (Page, error)
}

// Fetcher loads the payload of a missing item whose listing lacks it.
type Fetcher interface {
	Fetch(ctx context.Context, it *Item) error
}

// Redeliverer asks the provider to send an item's webhook again, instead
// of building a synthetic event (GitHub's redeliver).
type Redeliverer interface {
	Redeliver(ctx context.Context, it *Item) error
}

// BodyKeyer derives match keys from a received event, for providers whose
// webhook dedup key cannot be derived from the API object (Shopify's
// X-Shopify-Webhook-Id is per delivery): such items are matched against
// the keys of the events received in the window instead.
type BodyKeyer interface {
	BodyKeys(topic string, body []byte) []string
}

// Errors.
var (
	// ErrBusy: a run of this source is already in progress somewhere.
	ErrBusy = errors.New("a reconciliation run of this source is already in progress")
	// ErrUnknownSource: no source of that name has reconciliation configured.
	ErrUnknownSource = errors.New("source has no reconciliation configured")
)

// Origin header values.
const (
	OriginHeader = "Hookyard-Origin"
	OriginValue  = "reconcile"
	RunHeader    = "Hookyard-Reconcile-Run"
)

// Triggers recorded on runs.
const (
	TriggerSchedule = "schedule"
	TriggerManual   = "manual"
	TriggerResume   = "resume"
)

// Run is a store.ReconcileRun (re-exported for callers that only import
// this package).
type Run = store.ReconcileRun
