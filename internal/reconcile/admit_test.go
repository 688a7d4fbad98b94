package reconcile_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/ingest"
	"github.com/hookyard/hookyard/internal/leader"
	"github.com/hookyard/hookyard/internal/reconcile"
	"github.com/hookyard/hookyard/internal/reconcile/reconciletest"
	"github.com/hookyard/hookyard/internal/schema"
	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"
)

// TestBackfillPassesIngestValidation: backfilled events go through the
// checks ingest applies to the source's webhooks (topic schema, JSON
// depth). The ones that fail are quarantined with the reason and counted
// as quarantined, not as errors; the others are stored.
func TestBackfillPassesIngestValidation(t *testing.T) {
	st := openStore(t)
	var events [][]byte
	for i := range 5 {
		amount := 100 + i
		if i == 2 {
			amount = 0 // violates the schema's minimum
		}
		events = append(events, reconciletest.StripeEvent(fmt.Sprintf("evt_%06d", i), "payment_intent.succeeded",
			t0.Add(-time.Duration(10-i)*time.Minute), amount))
	}
	deep := `{"id":"evt_deep","type":"charge.updated","created":` + fmt.Sprint(t0.Add(-time.Minute).Unix()) +
		`,"data":{"object":` + strings.Repeat(`{"a":`, 70) + `1` + strings.Repeat(`}`, 70) + `}}`
	events = append(events, []byte(deep))
	api := reconciletest.NewStripe(t, "rk_test_key", events)
	sc, err := schema.Parse([]byte(`{"type":"object","properties":{"data":{"type":"object","properties":{"object":{"type":"object",
		"properties":{"amount":{"type":"integer","minimum":1}}}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	gate := ingest.New(ingest.Config{Store: st, Router: oneRoute{},
		Sources: []ingest.Source{{Name: "stripe", Provider: "stripe", JSON: true,
			Schemas: map[string]*schema.Schema{"payment_intent.succeeded": sc}}}})
	var sleeps []time.Duration
	r := reconcile.New(reconcile.Config{Sources: []reconcile.Source{stripeSource(api, &sleeps)}, Store: st,
		Router: oneRoute{}, Gate: gate, Locker: leader.NewLocal(), Now: func() time.Time { return t0 }})
	run, err := r.Run(t.Context(), "stripe", t0.Add(-time.Hour), t0, reconcile.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	if run.State != store.RunDone || run.Listed != 6 || run.Missing != 6 || run.Backfilled != 4 || run.Quarantined != 2 || run.Errors != 0 ||
		!strings.Contains(run.LastError, "quarantined") {
		t.Fatalf("run %+v", run)
	}
	qs, _, err := st.QuarantineList(t.Context(), store.QuarantineFilter{Source: "stripe"})
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{}
	for _, q := range qs {
		reasons[q.Event.DedupKey] = q.Reason
		if q.Event.Headers.Get(reconcile.OriginHeader) != "reconcile" {
			t.Fatalf("quarantined %s is not marked as backfilled", q.Event.DedupKey)
		}
	}
	if len(qs) != 2 || !strings.Contains(reasons["evt_000002"], "Schema violation") ||
		!strings.Contains(reasons["evt_deep"], "nested too deeply") {
		t.Fatalf("quarantine %v", reasons)
	}
	for _, key := range []string{"evt_000002", "evt_deep", "evt_000000", "evt_000004"} {
		evs, _, err := st.EventList(t.Context(), store.EventFilter{Source: "stripe", DedupKey: key})
		if err != nil {
			t.Fatal(err)
		}
		if want := key != "evt_000002" && key != "evt_deep"; (len(evs) == 1) != want {
			t.Fatalf("%s: %d events stored", key, len(evs))
		}
	}
}

// ingestOrder wraps the store and records the order of backfills stored.
type ingestOrder struct {
	sqliteStore
	mu   sync.Mutex
	keys []string
}

func (s *ingestOrder) Ingest(ctx context.Context, ev *webhook.Event, ds []webhook.NewDelivery) (store.IngestResult, error) {
	res, err := s.sqliteStore.Ingest(ctx, ev, ds)
	if err == nil {
		s.mu.Lock()
		s.keys = append(s.keys, ev.DedupKey)
		s.mu.Unlock()
	}
	return res, err
}

// TestOrderedSourceBackfillsOldestFirst: Stripe lists newest first over
// three pages; an ordered source stores the run's backfills oldest first
// across all of them, and a rerun finds nothing left.
func TestOrderedSourceBackfillsOldestFirst(t *testing.T) {
	base := openStore(t)
	missing := map[int]bool{}
	for i := 1; i < 250; i += 7 {
		missing[i] = true
	}
	events := stripeEvents(t, base, 250, missing)
	api := reconciletest.NewStripe(t, "rk_test_key", events)
	st := &ingestOrder{sqliteStore: base}
	var sleeps []time.Duration
	src := stripeSource(api, &sleeps)
	src.Ordered = true
	r := reconcile.New(reconcile.Config{Sources: []reconcile.Source{src}, Store: st,
		Router: oneRoute{}, Locker: leader.NewLocal(), Now: func() time.Time { return t0 }})
	run, err := r.Run(t.Context(), "stripe", t0.Add(-time.Hour), t0, reconcile.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	if run.State != store.RunDone || run.Listed != 250 || run.Backfilled != len(missing) || run.Errors != 0 || run.Cursor != "" {
		t.Fatalf("run %+v", run)
	}
	var want []string
	for i := range 250 {
		if missing[i] {
			want = append(want, fmt.Sprintf("evt_%06d", i))
		}
	}
	if got := strings.Join(st.keys, ","); got != strings.Join(want, ",") {
		t.Fatalf("stored in the order\n%s\nwant oldest first\n%s", got, strings.Join(want, ","))
	}
	again, err := r.Run(t.Context(), "stripe", t0.Add(-time.Hour), t0, reconcile.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	if again.Missing != 0 || again.Backfilled != 0 || again.Matched != 250 {
		t.Fatalf("rerun %+v", again)
	}
}
