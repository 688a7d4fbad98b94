// Package storetest is the conformance suite every store.Store
// implementation must pass. Each implementation's test calls Run with a
// function that opens a fresh, empty store.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"
)

// Opener returns a fresh, empty store; the suite closes it.
type Opener func(t *testing.T) store.Store

// Run runs the whole suite.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"IngestAndGet", testIngestAndGet},
		{"IngestDuplicate", testIngestDuplicate},
		{"IngestConcurrentDuplicates", testIngestConcurrentDuplicates},
		{"IngestSameKeyOtherSource", testIngestSameKeyOtherSource},
		{"ClaimPriorityAndDue", testClaimPriorityAndDue},
		{"ClaimIsolatesDestinations", testClaimIsolatesDestinations},
		{"ClaimConcurrentNoDoubleLease", testClaimConcurrent},
		{"LeaseExpiryAndFencing", testLeaseExpiryAndFencing},
		{"Succeed", testSucceed},
		{"RetryThenSucceed", testRetryThenSucceed},
		{"DeadAndReplay", testDeadAndReplay},
		{"Release", testRelease},
		{"Cancel", testCancel},
		{"NextDue", testNextDue},
		{"DeliveryListPagination", testDeliveryListPagination},
		{"EventListFilters", testEventListFilters},
		{"NotFound", testNotFound},
		{"Ping", testPing},
		{"Quarantine", testQuarantine},
		{"QueueStats", testQueueStats},
		{"OrderingKeyOneAtATime", testOrderingKey},
		{"OrderingKeyOnDead", testOrderingKeyOnDead},
		{"ClaimTiers", testClaimTiers},
		{"ClaimTiersWithGap", testClaimTiersWithGap},
		{"DeliveryIDs", testDeliveryIDs},
		{"IngestConcurrentMixed", testIngestConcurrentMixed},
		{"FencingConcurrent", testFencingConcurrent},
		{"OrderingKeyConcurrentWorkers", testOrderingKeyConcurrent},
		{"DestinationStatus", testDestinationStatus},
		{"DestinationTokens", testDestinationTokens},
		{"DestinationTokensConcurrent", testDestinationTokensConcurrent},
		{"ClaimMaxInFlight", testClaimMaxInFlight},
		{"ClaimMaxInFlightConcurrent", testClaimMaxInFlightConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			tt.fn(t, s)
		})
	}
	t.Run("Retention", func(t *testing.T) { testRetention(t, open) })
}

var t0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

func event(source, key string, at time.Time) *webhook.Event {
	return &webhook.Event{
		ID:         webhook.NewID("evt_", at),
		Source:     source,
		Provider:   "shopify",
		Topic:      "orders/create",
		DedupKey:   key,
		ReceivedAt: at,
		Headers:    http.Header{"Content-Type": {"application/json"}, "X-Shopify-Topic": {"orders/create"}},
		Body:       []byte(`{"id":` + fmt.Sprint(at.UnixNano()) + `,"note":"` + key + `"}`),
	}
}

func route(dest string, prio int) webhook.NewDelivery {
	return webhook.NewDelivery{Destination: dest, Route: "shop->" + dest, Priority: prio, MaxAttempts: 5}
}

func mustIngest(t *testing.T, s store.Store, ev *webhook.Event, ds ...webhook.NewDelivery) store.IngestResult {
	t.Helper()
	res, err := s.Ingest(context.Background(), ev, ds)
	if err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	return res
}

func claim(t *testing.T, s store.Store, dest string, limit int, now time.Time) []webhook.Claimed {
	t.Helper()
	cs, err := s.DeliveryClaim(context.Background(), store.ClaimParams{
		Destination: dest, Owner: "test", Limit: limit, Lease: time.Minute, Now: now})
	if err != nil {
		t.Fatalf("DeliveryClaim: %v", err)
	}
	return cs
}

func attempt(n int, code int, class string) webhook.Attempt {
	return webhook.Attempt{Number: n, StartedAt: t0, Duration: 12 * time.Millisecond, StatusCode: code,
		ErrorClass: class, ResponseBody: []byte("resp")}
}

func testIngestAndGet(t *testing.T, s store.Store) {
	ev := event("shop", "k1", t0)
	ev.Body = []byte("{\"a\": \"\\u00e9 byte-for-byte \\/ \"}\r\n")
	res := mustIngest(t, s, ev, route("oms", 1), route("crm", 1))
	if res.Duplicate || res.EventID != ev.ID {
		t.Fatalf("result = %+v, want new event %s", res, ev.ID)
	}
	got, err := s.EventGet(context.Background(), ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Body) != string(ev.Body) {
		t.Errorf("body = %q, want %q", got.Body, ev.Body)
	}
	if got.Source != "shop" || got.Topic != "orders/create" || got.DedupKey != "k1" || got.Provider != "shopify" {
		t.Errorf("event fields = %+v", got)
	}
	if !got.ReceivedAt.Equal(t0) {
		t.Errorf("received_at = %v, want %v", got.ReceivedAt, t0)
	}
	if got.Headers.Get("X-Shopify-Topic") != "orders/create" {
		t.Errorf("headers = %v", got.Headers)
	}
	ds, _, err := s.DeliveryList(context.Background(), store.DeliveryFilter{EventID: ev.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 {
		t.Fatalf("deliveries = %d, want 2", len(ds))
	}
	for _, d := range ds {
		if d.State != webhook.StatePending || d.Attempts != 0 || d.MaxAttempts != 5 || !d.NextAttemptAt.Equal(t0) {
			t.Errorf("new delivery = %+v", d)
		}
	}
	if ds[0].ID == ds[1].ID {
		t.Error("deliveries share an id")
	}
}

func testIngestDuplicate(t *testing.T, s store.Store) {
	first := event("shop", "dup", t0)
	mustIngest(t, s, first, route("oms", 1))
	second := event("shop", "dup", t0.Add(time.Second))
	res := mustIngest(t, s, second, route("oms", 1))
	if !res.Duplicate || res.EventID != first.ID {
		t.Fatalf("result = %+v, want duplicate of %s", res, first.ID)
	}
	n, err := s.DeliveryCount(context.Background(), store.DeliveryFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("deliveries = %d, want 1", n)
	}
	if _, err := s.EventGet(context.Background(), second.ID); !errors.Is(err, webhook.ErrNotFound) {
		t.Fatalf("duplicate event stored: err = %v", err)
	}
}

func testIngestConcurrentDuplicates(t *testing.T, s store.Store) {
	const n = 32
	var wg sync.WaitGroup
	results := make([]store.IngestResult, n)
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = s.Ingest(context.Background(), event("shop", "same", t0), []webhook.NewDelivery{route("oms", 1)})
		}()
	}
	wg.Wait()
	fresh := 0
	for i := range results {
		if errs[i] != nil {
			t.Fatalf("ingest %d: %v", i, errs[i])
		}
		if !results[i].Duplicate {
			fresh++
		}
	}
	if fresh != 1 {
		t.Fatalf("%d ingests were not duplicates, want exactly 1", fresh)
	}
	for i := range results {
		if results[i].EventID != results[0].EventID {
			t.Fatalf("duplicates name different events: %s vs %s", results[i].EventID, results[0].EventID)
		}
	}
	if c, _ := s.DeliveryCount(context.Background(), store.DeliveryFilter{}); c != 1 {
		t.Fatalf("deliveries = %d, want 1", c)
	}
}

func testIngestSameKeyOtherSource(t *testing.T, s store.Store) {
	mustIngest(t, s, event("shop-a", "k", t0), route("oms", 1))
	res := mustIngest(t, s, event("shop-b", "k", t0), route("oms", 1))
	if res.Duplicate {
		t.Fatal("same key from another source was treated as a duplicate")
	}
}

func testClaimPriorityAndDue(t *testing.T, s store.Store) {
	low := mustIngest(t, s, event("shop", "low", t0), route("oms", webhook.PriorityLow)).EventID
	normal := mustIngest(t, s, event("shop", "normal", t0.Add(time.Millisecond)), route("oms", webhook.PriorityNormal)).EventID
	high := mustIngest(t, s, event("shop", "high", t0.Add(2*time.Millisecond)), route("oms", webhook.PriorityHigh)).EventID
	future := mustIngest(t, s, event("shop", "future", t0.Add(30*time.Second)), route("oms", webhook.PriorityHigh)).EventID

	cs := claim(t, s, "oms", 10, t0.Add(time.Second))
	var got []string
	for _, c := range cs {
		got = append(got, c.Event.ID)
		if c.Delivery.State != webhook.StateInFlight || c.Delivery.LeaseToken == 0 {
			t.Errorf("claimed delivery = %+v", c.Delivery)
		}
		if len(c.Event.Body) == 0 {
			t.Error("claimed event has no body")
		}
	}
	want := []string{high, normal, low}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("claim order = %v, want %v (future %s must not be claimed)", got, want, future)
	}
	if cs := claim(t, s, "oms", 10, t0.Add(time.Second)); len(cs) != 0 {
		t.Fatalf("second claim got %d, want 0 (all leased or not due)", len(cs))
	}
	if cs := claim(t, s, "oms", 10, t0.Add(30*time.Second)); len(cs) != 1 || cs[0].Event.ID != future {
		t.Fatalf("claim at due time got %d deliveries, want the future one", len(cs))
	}
}

func testClaimIsolatesDestinations(t *testing.T, s store.Store) {
	mustIngest(t, s, event("shop", "a", t0), route("oms", 1), route("crm", 1))
	if cs := claim(t, s, "oms", 10, t0); len(cs) != 1 || cs[0].Delivery.Destination != "oms" {
		t.Fatalf("oms claim = %+v", cs)
	}
	if cs := claim(t, s, "crm", 10, t0); len(cs) != 1 || cs[0].Delivery.Destination != "crm" {
		t.Fatalf("crm claim = %+v", cs)
	}
}

func testClaimConcurrent(t *testing.T, s store.Store) {
	const events = 200
	for i := 0; i < events; i++ {
		mustIngest(t, s, event("shop", fmt.Sprint("c", i), t0.Add(time.Duration(i)*time.Microsecond)), route("oms", 1))
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				cs, err := s.DeliveryClaim(context.Background(), store.ClaimParams{
					Destination: "oms", Owner: "w", Limit: 7, Lease: time.Minute, Now: t0.Add(time.Second)})
				if err != nil {
					t.Error(err)
					return
				}
				if len(cs) == 0 {
					return
				}
				mu.Lock()
				for _, c := range cs {
					seen[c.Delivery.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != events {
		t.Fatalf("claimed %d distinct deliveries, want %d", len(seen), events)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("delivery %s claimed %d times", id, n)
		}
	}
}

func testLeaseExpiryAndFencing(t *testing.T, s store.Store) {
	mustIngest(t, s, event("shop", "lease", t0), route("oms", 1))
	first := claim(t, s, "oms", 1, t0)
	if len(first) != 1 {
		t.Fatal("nothing claimed")
	}
	// Before the lease expires nobody else gets it.
	if cs := claim(t, s, "oms", 1, t0.Add(59*time.Second)); len(cs) != 0 {
		t.Fatal("claimed a delivery with a live lease")
	}
	// After expiry (worker crashed) it is claimable again, with a new token.
	second := claim(t, s, "oms", 1, t0.Add(61*time.Second))
	if len(second) != 1 || second[0].Delivery.ID != first[0].Delivery.ID {
		t.Fatal("expired lease was not reclaimed")
	}
	if second[0].Delivery.LeaseToken <= first[0].Delivery.LeaseToken {
		t.Fatalf("token did not advance: %d then %d", first[0].Delivery.LeaseToken, second[0].Delivery.LeaseToken)
	}
	ctx := context.Background()
	id := first[0].Delivery.ID
	// The stale worker's late write is fenced off.
	if err := s.DeliverySucceed(ctx, id, first[0].Delivery.LeaseToken, attempt(1, 200, "")); !errors.Is(err, webhook.ErrLeaseLost) {
		t.Fatalf("stale succeed: err = %v, want ErrLeaseLost", err)
	}
	if err := s.DeliveryDead(ctx, id, first[0].Delivery.LeaseToken, attempt(1, 400, webhook.ClassHTTP4xx)); !errors.Is(err, webhook.ErrLeaseLost) {
		t.Fatalf("stale dead: err = %v, want ErrLeaseLost", err)
	}
	if as, _ := s.AttemptList(ctx, id); len(as) != 0 {
		t.Fatalf("fenced writes recorded %d attempts", len(as))
	}
	if err := s.DeliverySucceed(ctx, id, second[0].Delivery.LeaseToken, attempt(1, 200, "")); err != nil {
		t.Fatalf("current owner succeed: %v", err)
	}
	d, _ := s.DeliveryGet(ctx, id)
	if d.State != webhook.StateSucceeded {
		t.Fatalf("state = %s", d.State)
	}
}

func testSucceed(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustIngest(t, s, event("shop", "ok", t0), route("oms", 1))
	c := claim(t, s, "oms", 1, t0)[0]
	if err := s.DeliverySucceed(ctx, c.Delivery.ID, c.Delivery.LeaseToken, attempt(1, 204, "")); err != nil {
		t.Fatal(err)
	}
	d, err := s.DeliveryGet(ctx, c.Delivery.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.State != webhook.StateSucceeded || d.Attempts != 1 || d.CompletedAt.IsZero() {
		t.Fatalf("delivery = %+v", d)
	}
	as, err := s.AttemptList(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 1 || as[0].StatusCode != 204 || as[0].Duration != 12*time.Millisecond || string(as[0].ResponseBody) != "resp" || as[0].Number != 1 {
		t.Fatalf("attempts = %+v", as)
	}
	if cs := claim(t, s, "oms", 1, t0.Add(time.Hour)); len(cs) != 0 {
		t.Fatal("succeeded delivery was claimed again")
	}
	// Succeeding twice with the same token is fenced (state no longer in flight).
	if err := s.DeliverySucceed(ctx, d.ID, c.Delivery.LeaseToken, attempt(2, 200, "")); !errors.Is(err, webhook.ErrLeaseLost) {
		t.Fatalf("second succeed: %v", err)
	}
}

func testRetryThenSucceed(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustIngest(t, s, event("shop", "retry", t0), route("oms", 1))
	now := t0
	for i := 1; i <= 3; i++ {
		cs := claim(t, s, "oms", 1, now)
		if len(cs) != 1 {
			t.Fatalf("attempt %d: nothing claimable at %v", i, now)
		}
		c := cs[0]
		if c.Delivery.Attempts != i-1 {
			t.Fatalf("attempts before try %d = %d", i, c.Delivery.Attempts)
		}
		if !c.Delivery.ReadyAt.Equal(now) {
			t.Fatalf("try %d: ReadyAt = %v, want the due time %v (kept through the claim)", i, c.Delivery.ReadyAt, now)
		}
		next := now.Add(time.Duration(i) * time.Minute)
		a := attempt(i, 500, webhook.ClassHTTP5xx)
		a.Error = "HTTP 500"
		if err := s.DeliveryRetry(ctx, c.Delivery.ID, c.Delivery.LeaseToken, a, next); err != nil {
			t.Fatal(err)
		}
		if cs := claim(t, s, "oms", 1, next.Add(-time.Millisecond)); len(cs) != 0 {
			t.Fatal("claimed before the retry was due")
		}
		d, _ := s.DeliveryGet(ctx, c.Delivery.ID)
		if d.State != webhook.StatePending || d.LastErrorClass != webhook.ClassHTTP5xx || d.LastError != "HTTP 500" || !d.NextAttemptAt.Equal(next) {
			t.Fatalf("after retry: %+v", d)
		}
		now = next
	}
	c := claim(t, s, "oms", 1, now)[0]
	if err := s.DeliverySucceed(ctx, c.Delivery.ID, c.Delivery.LeaseToken, attempt(4, 200, "")); err != nil {
		t.Fatal(err)
	}
	as, _ := s.AttemptList(ctx, c.Delivery.ID)
	if len(as) != 4 {
		t.Fatalf("attempts = %d, want 4", len(as))
	}
	d, _ := s.DeliveryGet(ctx, c.Delivery.ID)
	if d.Attempts != 4 || d.State != webhook.StateSucceeded {
		t.Fatalf("final = %+v", d)
	}
}

func testDeadAndReplay(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustIngest(t, s, event("shop", "dead", t0), route("oms", 1))
	c := claim(t, s, "oms", 1, t0)[0]
	a := attempt(1, 400, webhook.ClassHTTP4xx)
	a.Error = "HTTP 400: bad order"
	if err := s.DeliveryDead(ctx, c.Delivery.ID, c.Delivery.LeaseToken, a); err != nil {
		t.Fatal(err)
	}
	dead, _, err := s.DeliveryList(ctx, store.DeliveryFilter{States: []webhook.State{webhook.StateDead}})
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 1 || dead[0].ID != c.Delivery.ID || dead[0].LastError != "HTTP 400: bad order" {
		t.Fatalf("dlq = %+v", dead)
	}
	for classes, want := range map[string]int{"4xx": 1, "5xx": 0} {
		n, err := s.DeliveryCount(ctx, store.DeliveryFilter{States: []webhook.State{webhook.StateDead}, ErrorClasses: []string{classes}})
		if err != nil || n != want {
			t.Fatalf("dead with error class %s: %d, %v; want %d", classes, n, err, want)
		}
	}
	if cs := claim(t, s, "oms", 1, t0.Add(time.Hour)); len(cs) != 0 {
		t.Fatal("dead delivery was claimed")
	}
	n, err := s.DeliveryReplay(ctx, []string{c.Delivery.ID, "dlv_unknown"}, t0.Add(2*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("replay = %d, %v; want 1", n, err)
	}
	// Replaying a live delivery does nothing.
	if n, _ := s.DeliveryReplay(ctx, []string{c.Delivery.ID}, t0.Add(2*time.Hour)); n != 0 {
		t.Fatalf("replayed a pending delivery: %d", n)
	}
	cs := claim(t, s, "oms", 1, t0.Add(2*time.Hour))
	if len(cs) != 1 {
		t.Fatal("replayed delivery not claimable")
	}
	r := cs[0].Delivery
	if r.ID != c.Delivery.ID || r.IdempotencyKey() != c.Delivery.IdempotencyKey() || r.Attempts != 0 {
		t.Fatalf("replayed delivery = %+v (want same id/key, fresh budget)", r)
	}
}

func testRelease(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustIngest(t, s, event("shop", "rel", t0), route("oms", 1))
	c := claim(t, s, "oms", 1, t0)[0]
	if err := s.DeliveryRelease(ctx, c.Delivery.ID, c.Delivery.LeaseToken); err != nil {
		t.Fatal(err)
	}
	d, _ := s.DeliveryGet(ctx, c.Delivery.ID)
	if d.State != webhook.StatePending || d.Attempts != 0 {
		t.Fatalf("released = %+v", d)
	}
	if err := s.DeliveryRelease(ctx, c.Delivery.ID, c.Delivery.LeaseToken); !errors.Is(err, webhook.ErrLeaseLost) {
		t.Fatalf("second release: %v", err)
	}
}

func testCancel(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustIngest(t, s, event("shop", "cancel", t0), route("oms", 1))
	ds, _, _ := s.DeliveryList(ctx, store.DeliveryFilter{})
	n, err := s.DeliveryCancel(ctx, []string{ds[0].ID}, t0)
	if err != nil || n != 1 {
		t.Fatalf("cancel = %d, %v", n, err)
	}
	if cs := claim(t, s, "oms", 1, t0.Add(time.Hour)); len(cs) != 0 {
		t.Fatal("cancelled delivery was claimed")
	}
	d, _ := s.DeliveryGet(ctx, ds[0].ID)
	if d.State != webhook.StateCancelled {
		t.Fatalf("state = %s", d.State)
	}
}

func testNextDue(t *testing.T, s store.Store) {
	ctx := context.Background()
	if _, ok, err := s.DeliveryNextDue(ctx, "oms"); err != nil || ok {
		t.Fatalf("empty queue: ok=%v err=%v", ok, err)
	}
	mustIngest(t, s, event("shop", "n1", t0.Add(time.Minute)), route("oms", 1))
	mustIngest(t, s, event("shop", "n2", t0), route("oms", 1))
	due, ok, err := s.DeliveryNextDue(ctx, "oms")
	if err != nil || !ok || !due.Equal(t0) {
		t.Fatalf("next due = %v %v %v, want %v", due, ok, err, t0)
	}
	if _, ok, _ := s.DeliveryNextDue(ctx, "crm"); ok {
		t.Fatal("other destination reported due work")
	}
}

func testDeliveryListPagination(t *testing.T, s store.Store) {
	ctx := context.Background()
	for i := 0; i < 25; i++ {
		mustIngest(t, s, event("shop", fmt.Sprint("p", i), t0.Add(time.Duration(i)*time.Millisecond)), route("oms", 1))
	}
	seen := map[string]bool{}
	cursor := ""
	pages := 0
	for {
		ds, next, err := s.DeliveryList(ctx, store.DeliveryFilter{Destination: "oms", Limit: 10, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, d := range ds {
			if seen[d.ID] {
				t.Fatalf("delivery %s on two pages", d.ID)
			}
			seen[d.ID] = true
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if len(seen) != 25 || pages != 3 {
		t.Fatalf("saw %d deliveries on %d pages, want 25 on 3", len(seen), pages)
	}
	if n, _ := s.DeliveryCount(ctx, store.DeliveryFilter{Destination: "oms", States: []webhook.State{webhook.StatePending}}); n != 25 {
		t.Fatalf("count = %d", n)
	}
}

func testEventListFilters(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := event("shop", "e1", t0)
	b := event("shop", "e2", t0.Add(time.Minute))
	b.Topic = "refunds/create"
	c := event("stripe", "evt_123", t0.Add(2*time.Minute))
	for _, ev := range []*webhook.Event{a, b, c} {
		mustIngest(t, s, ev)
	}
	check := func(f store.EventFilter, want ...string) {
		t.Helper()
		es, _, err := s.EventList(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range es {
			got = append(got, e.ID)
			if e.Body != nil {
				t.Error("EventList returned a body")
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("EventList(%+v) = %v, want %v", f, got, want)
		}
	}
	check(store.EventFilter{}, c.ID, b.ID, a.ID)
	check(store.EventFilter{Source: "shop"}, b.ID, a.ID)
	check(store.EventFilter{Topic: "refunds/create"}, b.ID)
	check(store.EventFilter{DedupKey: "evt_123"}, c.ID)
	check(store.EventFilter{Since: t0.Add(30 * time.Second), Until: t0.Add(90 * time.Second)}, b.ID)
	check(store.EventFilter{Limit: 1, Cursor: c.ID}, b.ID)
}

func testNotFound(t *testing.T, s store.Store) {
	ctx := context.Background()
	if _, err := s.EventGet(ctx, "evt_nope"); !errors.Is(err, webhook.ErrNotFound) {
		t.Errorf("EventGet: %v", err)
	}
	if _, err := s.DeliveryGet(ctx, "dlv_nope"); !errors.Is(err, webhook.ErrNotFound) {
		t.Errorf("DeliveryGet: %v", err)
	}
}

func testPing(t *testing.T, s store.Store) {
	if err := s.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func testQuarantine(t *testing.T, s store.Store) {
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		ev := event("shop", fmt.Sprint("q", i), t0.Add(time.Duration(i)*time.Second))
		ev.ID = webhook.NewID("qtn_", ev.ReceivedAt)
		if i == 2 {
			ev.Source = "other"
		}
		if err := s.Quarantine(ctx, ev, fmt.Sprint("$.id: want integer, got string #", i)); err != nil {
			t.Fatal(err)
		}
	}
	qs, next, err := s.QuarantineList(ctx, store.QuarantineFilter{Source: "shop", Limit: 1, WithBody: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) != 1 || next == "" || qs[0].Reason != "$.id: want integer, got string #1" || len(qs[0].Event.Body) == 0 ||
		qs[0].Event.Headers.Get("X-Shopify-Topic") != "orders/create" {
		t.Fatalf("first page = %+v, next %q", qs, next)
	}
	qs, next, err = s.QuarantineList(ctx, store.QuarantineFilter{Source: "shop", Cursor: next})
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) != 1 || next != "" || qs[0].Event.Body != nil || qs[0].Event.DedupKey != "q0" {
		t.Fatalf("second page = %+v, next %q", qs, next)
	}
	if n, _ := s.DeliveryCount(ctx, store.DeliveryFilter{}); n != 0 {
		t.Fatalf("quarantine created %d deliveries", n)
	}
}

func testQueueStats(t *testing.T, s store.Store) {
	ctx := context.Background()
	if qs, err := s.QueueStats(ctx, t0); err != nil || len(qs) != 0 {
		t.Fatalf("empty store: %+v, %v", qs, err)
	}
	for i := 0; i < 5; i++ {
		mustIngest(t, s, event("shop", fmt.Sprint("s", i), t0.Add(time.Duration(i)*time.Second)), route("oms", 1), route("crm", 1))
	}
	// oms: one in flight, one retrying later, one dead, two due.
	cs := claim(t, s, "oms", 3, t0.Add(10*time.Second))
	if len(cs) != 3 {
		t.Fatalf("claimed %d", len(cs))
	}
	if err := s.DeliveryRetry(ctx, cs[1].Delivery.ID, cs[1].Delivery.LeaseToken, attempt(1, 500, webhook.ClassHTTP5xx), t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.DeliveryDead(ctx, cs[2].Delivery.ID, cs[2].Delivery.LeaseToken, attempt(1, 400, webhook.ClassHTTP4xx)); err != nil {
		t.Fatal(err)
	}
	qs, err := s.QueueStats(ctx, t0.Add(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	want := []store.QueueStat{
		{Destination: "crm", Due: 5, OldestDue: t0},
		{Destination: "oms", Due: 2, Scheduled: 1, InFlight: 1, Dead: 1, OldestDue: t0.Add(3 * time.Second)},
	}
	if len(qs) != 2 {
		t.Fatalf("stats = %+v", qs)
	}
	for i := range want {
		g := qs[i]
		if g.Destination != want[i].Destination || g.Due != want[i].Due || g.Scheduled != want[i].Scheduled ||
			g.InFlight != want[i].InFlight || g.Dead != want[i].Dead || !g.OldestDue.Equal(want[i].OldestDue) {
			t.Errorf("stats[%d] = %+v, want %+v", i, g, want[i])
		}
	}
}

func keyed(dest, key string, block bool) webhook.NewDelivery {
	return webhook.NewDelivery{Destination: dest, Route: "r", Priority: webhook.PriorityNormal, OrderingKey: key,
		BlockOnDead: block, MaxAttempts: 5, Version: "v1"}
}

func testOrderingKey(t *testing.T, s store.Store) {
	ctx := context.Background()
	// Order 1 gets three updates, order 2 one; plus one unkeyed event.
	var ids []string
	for i, key := range []string{"order-1", "order-2", "order-1", "", "order-1"} {
		ids = append(ids, mustIngest(t, s, event("shop", fmt.Sprint("o", i), t0.Add(time.Duration(i)*time.Millisecond)), keyed("oms", key, false)).EventID)
	}
	got := func(cs []webhook.Claimed) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Event.ID)
		}
		return out
	}
	// Only the head of each key is claimable: order-1's first, order-2, the unkeyed one.
	first := claim(t, s, "oms", 10, t0.Add(time.Second))
	if fmt.Sprint(got(first)) != fmt.Sprint([]string{ids[0], ids[1], ids[3]}) {
		t.Fatalf("first claim = %v, want heads %v", got(first), []string{ids[0], ids[1], ids[3]})
	}
	if first[0].Delivery.Version != "v1" || first[0].Delivery.OrderingKey != "order-1" {
		t.Fatalf("claimed delivery = %+v", first[0].Delivery)
	}
	if cs := claim(t, s, "oms", 10, t0.Add(time.Second)); len(cs) != 0 {
		t.Fatalf("claimed %v while the heads are in flight", got(cs))
	}
	// A retry keeps the key blocked until the head succeeds.
	if err := s.DeliveryRetry(ctx, first[0].Delivery.ID, first[0].Delivery.LeaseToken, attempt(1, 500, webhook.ClassHTTP5xx), t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if cs := claim(t, s, "oms", 10, t0.Add(2*time.Second)); len(cs) != 0 {
		t.Fatalf("claimed %v behind a retrying head", got(cs))
	}
	head := claim(t, s, "oms", 10, t0.Add(time.Minute))
	if len(head) != 1 || head[0].Event.ID != ids[0] {
		t.Fatalf("retry claim = %v", got(head))
	}
	if err := s.DeliverySucceed(ctx, head[0].Delivery.ID, head[0].Delivery.LeaseToken, attempt(2, 200, "")); err != nil {
		t.Fatal(err)
	}
	next := claim(t, s, "oms", 10, t0.Add(time.Minute))
	if fmt.Sprint(got(next)) != fmt.Sprint([]string{ids[2]}) {
		t.Fatalf("after the head succeeded: %v, want %v", got(next), ids[2])
	}
}

func testOrderingKeyOnDead(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, block := range []bool{false, true} {
		dest := fmt.Sprint("dest-block-", block)
		a := mustIngest(t, s, event("shop", dest+"a", t0), keyed(dest, "k", block)).EventID
		b := mustIngest(t, s, event("shop", dest+"b", t0.Add(time.Millisecond)), keyed(dest, "k", block)).EventID
		cs := claim(t, s, dest, 10, t0.Add(time.Second))
		if len(cs) != 1 || cs[0].Event.ID != a {
			t.Fatalf("block=%v: first claim %+v", block, cs)
		}
		if err := s.DeliveryDead(ctx, cs[0].Delivery.ID, cs[0].Delivery.LeaseToken, attempt(1, 400, webhook.ClassHTTP4xx)); err != nil {
			t.Fatal(err)
		}
		cs = claim(t, s, dest, 10, t0.Add(time.Second))
		switch {
		case !block && (len(cs) != 1 || cs[0].Event.ID != b):
			t.Fatalf("on_dead skip: the key did not move on: %+v", cs)
		case block && len(cs) != 0:
			t.Fatalf("on_dead block: claimed past a dead head: %+v", cs)
		}
		if block {
			// Replaying the dead head unblocks the key, head first.
			ds, _, _ := s.DeliveryList(ctx, store.DeliveryFilter{Destination: dest, States: []webhook.State{webhook.StateDead}})
			if _, err := s.DeliveryReplay(ctx, []string{ds[0].ID}, t0.Add(2*time.Second)); err != nil {
				t.Fatal(err)
			}
			cs = claim(t, s, dest, 10, t0.Add(2*time.Second))
			if len(cs) != 1 || cs[0].Event.ID != a {
				t.Fatalf("after replay: %+v", cs)
			}
		}
	}
}

func testClaimTiers(t *testing.T, s store.Store) {
	high := mustIngest(t, s, event("shop", "th", t0), route("oms", webhook.PriorityHigh)).EventID
	normal := mustIngest(t, s, event("shop", "tn", t0), route("oms", webhook.PriorityNormal)).EventID
	low := mustIngest(t, s, event("shop", "tl", t0), route("oms", webhook.PriorityLow)).EventID
	tier := func(tiers uint8) []string {
		cs, err := s.DeliveryClaim(context.Background(), store.ClaimParams{Destination: "oms", Owner: "t", Limit: 10,
			Lease: time.Minute, Now: t0.Add(time.Second), Tiers: tiers})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range cs {
			out = append(out, c.Event.ID)
		}
		return out
	}
	if got := tier(store.TierLow); fmt.Sprint(got) != fmt.Sprint([]string{low}) {
		t.Fatalf("low tier = %v", got)
	}
	if got := tier(store.TierHigh); fmt.Sprint(got) != fmt.Sprint([]string{high}) {
		t.Fatalf("high tier = %v", got)
	}
	if got := tier(0); fmt.Sprint(got) != fmt.Sprint([]string{normal}) {
		t.Fatalf("all tiers = %v", got)
	}
}

// testDeliveryIDs pins the delivery id format every store must produce, so
// the API and the idempotency keys look the same on SQLite and Postgres.
func testDeliveryIDs(t *testing.T, s store.Store) {
	ev := event("shop", "ids", t0)
	mustIngest(t, s, ev, route("oms", 1), route("crm", 1), route("wms", 1))
	ds, _, err := s.DeliveryList(context.Background(), store.DeliveryFilter{EventID: ev.ID})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, d := range ds {
		got[d.ID] = d.Destination
		if d.EventID != ev.ID {
			t.Errorf("delivery %s: event id %s, want %s", d.ID, d.EventID, ev.ID)
		}
	}
	for i, dest := range []string{"oms", "crm", "wms"} {
		id := store.DeliveryID(ev.ID, i)
		if got[id] != dest {
			t.Errorf("delivery %s = %q, want destination %s (ids: %v)", id, got[id], dest, got)
		}
	}
}

// testIngestConcurrentMixed ingests new events and duplicates of them at
// once, as a burst of provider retries would: each key is stored once, with
// its deliveries, and every duplicate names the stored event.
func testIngestConcurrentMixed(t *testing.T, s store.Store) {
	const n, keys = 96, 8
	var wg sync.WaitGroup
	results := make([]store.IngestResult, n)
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ev := event("shop", fmt.Sprint("mixed-", i%keys), t0.Add(time.Duration(i)*time.Microsecond))
			results[i], errs[i] = s.Ingest(context.Background(), ev, []webhook.NewDelivery{route("oms", 1), route("crm", 1)})
		}()
	}
	wg.Wait()
	fresh := map[int]int{}
	for i := range results {
		if errs[i] != nil {
			t.Fatalf("ingest %d: %v", i, errs[i])
		}
		if !results[i].Duplicate {
			fresh[i%keys]++
		}
	}
	ctx := context.Background()
	for k := 0; k < keys; k++ {
		if fresh[k] != 1 {
			t.Errorf("key %d stored %d times, want 1", k, fresh[k])
		}
		es, _, err := s.EventList(ctx, store.EventFilter{DedupKey: fmt.Sprint("mixed-", k)})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 1 {
			t.Fatalf("key %d: %d events stored", k, len(es))
		}
		for i := k; i < n; i += keys {
			if results[i].EventID != es[0].ID {
				t.Errorf("ingest %d (key %d) named event %s, stored %s", i, k, results[i].EventID, es[0].ID)
			}
		}
	}
	if c, _ := s.DeliveryCount(ctx, store.DeliveryFilter{}); c != 2*keys {
		t.Fatalf("deliveries = %d, want %d", c, 2*keys)
	}
}

// testFencingConcurrent races a crashed-and-back worker's late outcomes
// against the new lease holder's: every stale write is fenced off, every
// current one applies, and each delivery records exactly one attempt.
func testFencingConcurrent(t *testing.T, s store.Store) {
	ctx := context.Background()
	const n = 40
	for i := 0; i < n; i++ {
		mustIngest(t, s, event("shop", fmt.Sprint("f", i), t0.Add(time.Duration(i)*time.Microsecond)), route("oms", 1))
	}
	stale := claim(t, s, "oms", n, t0.Add(time.Millisecond))
	fresh := claim(t, s, "oms", n, t0.Add(2*time.Minute)) // the first leases expired
	if len(stale) != n || len(fresh) != n {
		t.Fatalf("claimed %d then %d, want %d each", len(stale), len(fresh), n)
	}
	var wg sync.WaitGroup
	staleErrs := make([]error, n)
	freshErrs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			c := stale[i].Delivery
			if i%2 == 0 {
				staleErrs[i] = s.DeliverySucceed(ctx, c.ID, c.LeaseToken, attempt(1, 200, ""))
			} else {
				staleErrs[i] = s.DeliveryRetry(ctx, c.ID, c.LeaseToken, attempt(1, 500, webhook.ClassHTTP5xx), t0.Add(time.Hour))
			}
		}()
		go func() {
			defer wg.Done()
			c := fresh[i].Delivery
			if i%3 == 0 {
				freshErrs[i] = s.DeliveryDead(ctx, c.ID, c.LeaseToken, attempt(1, 400, webhook.ClassHTTP4xx))
			} else {
				freshErrs[i] = s.DeliverySucceed(ctx, c.ID, c.LeaseToken, attempt(1, 200, ""))
			}
		}()
	}
	wg.Wait()
	for i := 0; i < n; i++ {
		if !errors.Is(staleErrs[i], webhook.ErrLeaseLost) {
			t.Errorf("stale write %d: err = %v, want ErrLeaseLost", i, staleErrs[i])
		}
		if freshErrs[i] != nil {
			t.Errorf("current write %d: %v", i, freshErrs[i])
		}
	}
	for i, c := range fresh {
		d, err := s.DeliveryGet(ctx, c.Delivery.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := webhook.StateSucceeded
		if i%3 == 0 {
			want = webhook.StateDead
		}
		if d.State != want || d.Attempts != 1 {
			t.Errorf("delivery %d: state %s, attempts %d; want %s, 1", i, d.State, d.Attempts, want)
		}
		if as, _ := s.AttemptList(ctx, d.ID); len(as) != 1 {
			t.Errorf("delivery %d: %d attempts recorded, want 1", i, len(as))
		}
	}
}

// testOrderingKeyConcurrent drains keyed work with several concurrent
// workers: a key never has two deliveries in flight, and each key's
// deliveries are claimed in the order received.
func testOrderingKeyConcurrent(t *testing.T, s store.Store) {
	ctx := context.Background()
	const keys, perKey = 4, 6
	want := map[string][]string{}
	for i := 0; i < keys*perKey; i++ {
		key := fmt.Sprint("order-", i%keys)
		ev := event("shop", fmt.Sprint("ok", i), t0.Add(time.Duration(i)*time.Millisecond))
		mustIngest(t, s, ev, keyed("oms", key, false))
		want[key] = append(want[key], ev.ID)
	}
	var mu sync.Mutex
	inflight := map[string]string{}
	got := map[string][]string{}
	var wg sync.WaitGroup
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for idle := 0; idle < 3; {
				cs, err := s.DeliveryClaim(ctx, store.ClaimParams{Destination: "oms", Owner: fmt.Sprint("w", w), Limit: 2,
					Lease: time.Minute, Now: t0.Add(time.Second)})
				if err != nil {
					t.Error(err)
					return
				}
				if len(cs) == 0 {
					mu.Lock()
					done := len(inflight) == 0 && countAll(got) == keys*perKey
					mu.Unlock()
					if done {
						idle++
					}
					continue
				}
				mu.Lock()
				for _, c := range cs {
					k := c.Delivery.OrderingKey
					if other, busy := inflight[k]; busy {
						t.Errorf("key %s: %s claimed while %s is in flight", k, c.Event.ID, other)
					}
					inflight[k] = c.Event.ID
					got[k] = append(got[k], c.Event.ID)
				}
				mu.Unlock()
				for _, c := range cs {
					// Clear before recording: the next delivery of the key
					// becomes claimable only once the success commits.
					mu.Lock()
					delete(inflight, c.Delivery.OrderingKey)
					mu.Unlock()
					if err := s.DeliverySucceed(ctx, c.Delivery.ID, c.Delivery.LeaseToken, attempt(1, 200, "")); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	for k, ids := range want {
		if fmt.Sprint(got[k]) != fmt.Sprint(ids) {
			t.Errorf("key %s claimed in order %v, want %v", k, got[k], ids)
		}
	}
}

func countAll(m map[string][]string) int {
	n := 0
	for _, v := range m {
		n += len(v)
	}
	return n
}

// testClaimTiersWithGap claims high and low work but not normal.
func testClaimTiersWithGap(t *testing.T, s store.Store) {
	high := mustIngest(t, s, event("shop", "gh", t0), route("oms", webhook.PriorityHigh)).EventID
	mustIngest(t, s, event("shop", "gn", t0), route("oms", webhook.PriorityNormal))
	low := mustIngest(t, s, event("shop", "gl", t0), route("oms", webhook.PriorityLow)).EventID
	cs, err := s.DeliveryClaim(context.Background(), store.ClaimParams{Destination: "oms", Owner: "t", Limit: 10,
		Lease: time.Minute, Now: t0.Add(time.Second), Tiers: store.TierHigh | store.TierLow})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cs {
		got = append(got, c.Event.ID)
	}
	if fmt.Sprint(got) != fmt.Sprint([]string{high, low}) {
		t.Fatalf("high|low tiers = %v, want %v", got, []string{high, low})
	}
}
