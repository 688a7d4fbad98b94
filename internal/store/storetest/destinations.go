package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/store"
)

func destinations(t *testing.T, s store.Store) store.Destinations {
	t.Helper()
	d, ok := s.(store.Destinations)
	if !ok {
		t.Fatalf("%T does not implement store.Destinations", s)
	}
	return d
}

func stateOf(t *testing.T, d store.Destinations, name string) (store.DestinationState, bool) {
	t.Helper()
	all, err := d.DestinationStates(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range all {
		if st.Destination == name {
			return st, true
		}
	}
	return store.DestinationState{}, false
}

func testDestinationStatus(t *testing.T, s store.Store) {
	ctx := context.Background()
	d := destinations(t, s)
	if _, ok := stateOf(t, d, "oms"); ok {
		t.Fatal("fresh store has a state row for oms")
	}
	active := []string{store.StatusActive}
	// Resuming an active destination is not a change.
	if _, changed, err := d.DestinationSetStatus(ctx, "oms", []string{store.StatusPaused}, store.StatusActive, "", t0); err != nil || changed {
		t.Fatalf("resume of active: changed=%v err=%v", changed, err)
	}
	st, changed, err := d.DestinationSetStatus(ctx, "oms", active, store.StatusPaused, "maintenance window", t0)
	if err != nil || !changed || st.Status != store.StatusPaused || st.Reason != "maintenance window" || !st.Since.Equal(t0) {
		t.Fatalf("pause: %+v changed=%v err=%v", st, changed, err)
	}
	// Pausing twice changes nothing and keeps the first reason and time.
	st, changed, err = d.DestinationSetStatus(ctx, "oms", active, store.StatusPaused, "again", t0.Add(time.Hour))
	if err != nil || changed || st.Reason != "maintenance window" || !st.Since.Equal(t0) {
		t.Fatalf("second pause: %+v changed=%v err=%v", st, changed, err)
	}
	got, ok := stateOf(t, d, "oms")
	if !ok || !got.Held() || got.Reason != "maintenance window" || !got.Since.Equal(t0) {
		t.Fatalf("stored state %+v", got)
	}

	// The failure clock starts once and keeps its start.
	since, err := d.DestinationFailing(ctx, "crm", t0)
	if err != nil || !since.Equal(t0) {
		t.Fatalf("failing: %v %v", since, err)
	}
	if since, err = d.DestinationFailing(ctx, "crm", t0.Add(time.Hour)); err != nil || !since.Equal(t0) {
		t.Fatalf("failing again: %v %v (want the first failure's time)", since, err)
	}
	if err := d.DestinationBreakerOpen(ctx, "crm", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ := stateOf(t, d, "crm"); !got.FailingSince.Equal(t0) || !got.BreakerOpenUntil.Equal(t0.Add(time.Minute)) || got.Status != store.StatusActive {
		t.Fatalf("crm state %+v", got)
	}
	// Disable, then enable: the failure clock and the breaker are reset.
	if _, changed, err := d.DestinationSetStatus(ctx, "crm", active, store.StatusDisabled, "HTTP 410 Gone", t0.Add(2*time.Hour)); err != nil || !changed {
		t.Fatalf("disable: %v %v", changed, err)
	}
	st, changed, err = d.DestinationSetStatus(ctx, "crm", []string{store.StatusDisabled}, store.StatusActive, "", t0.Add(3*time.Hour))
	if err != nil || !changed {
		t.Fatalf("enable: %v %v", changed, err)
	}
	got, _ = stateOf(t, d, "crm")
	if got.Status != store.StatusActive || !got.FailingSince.IsZero() || !got.BreakerOpenUntil.IsZero() || !got.Since.Equal(t0.Add(3*time.Hour)) {
		t.Fatalf("after enable %+v (returned %+v)", got, st)
	}
	// Recovery stops the clock; the next failure starts a new run.
	if _, err := d.DestinationFailing(ctx, "crm", t0.Add(4*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := d.DestinationRecovered(ctx, "crm"); err != nil {
		t.Fatal(err)
	}
	if since, err := d.DestinationFailing(ctx, "crm", t0.Add(5*time.Hour)); err != nil || !since.Equal(t0.Add(5*time.Hour)) {
		t.Fatalf("after recovery: %v %v", since, err)
	}
}

func testDestinationTokens(t *testing.T, s store.Store) {
	ctx := context.Background()
	d := destinations(t, s)
	// A fresh bucket holds burst tokens.
	got, _, err := d.DestinationTakeTokens(ctx, "oms", 8, 10, 5, t0)
	if err != nil || got != 5 {
		t.Fatalf("first take: %d %v, want 5 (the burst)", got, err)
	}
	got, wait, err := d.DestinationTakeTokens(ctx, "oms", 1, 10, 5, t0)
	if err != nil || got != 0 || wait <= 0 || wait > 100*time.Millisecond {
		t.Fatalf("empty bucket: got %d wait %v err %v; want 0 and a wait of at most one token (100ms)", got, wait, err)
	}
	// 300ms at 10/s refills 3 tokens.
	if got, _, err = d.DestinationTakeTokens(ctx, "oms", 10, 10, 5, t0.Add(300*time.Millisecond)); err != nil || got != 3 {
		t.Fatalf("refill: %d %v, want 3", got, err)
	}
	// Unused tokens go back, capped at the burst.
	if err := d.DestinationReturnTokens(ctx, "oms", 2, 5); err != nil {
		t.Fatal(err)
	}
	if got, _, err = d.DestinationTakeTokens(ctx, "oms", 10, 10, 5, t0.Add(300*time.Millisecond)); err != nil || got != 2 {
		t.Fatalf("after return: %d %v, want 2", got, err)
	}
	// Buckets are per destination.
	if got, _, err = d.DestinationTakeTokens(ctx, "crm", 1, 10, 5, t0); err != nil || got != 1 {
		t.Fatalf("other destination: %d %v", got, err)
	}
}

// testDestinationTokensConcurrent: many takers at the same instant share
// one bucket; together they get exactly the burst.
func testDestinationTokensConcurrent(t *testing.T, s store.Store) {
	d := destinations(t, s)
	var total atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				got, _, err := d.DestinationTakeTokens(context.Background(), "oms", 3, 1, 20, t0)
				if err != nil {
					t.Error(err)
					return
				}
				total.Add(int64(got))
			}
		}()
	}
	wg.Wait()
	if total.Load() != 20 {
		t.Fatalf("concurrent takers got %d tokens in total, want exactly the burst of 20", total.Load())
	}
}

// testClaimMaxInFlight: a claim never leases beyond MaxInFlight live
// leases of the destination, counting every claimer's; expired leases and
// finished deliveries free room.
func testClaimMaxInFlight(t *testing.T, s store.Store) {
	ctx := context.Background()
	for i := range 8 {
		mustIngest(t, s, event("shop", fmt.Sprint("mif-", i), t0), route("oms", 1))
	}
	p := store.ClaimParams{Destination: "oms", Owner: "a", Limit: 10, Lease: time.Minute, Now: t0, MaxInFlight: 3}
	cs, err := s.DeliveryClaim(ctx, p)
	if err != nil || len(cs) != 3 {
		t.Fatalf("first claim: %d, %v; want 3", len(cs), err)
	}
	if more, err := s.DeliveryClaim(ctx, p); err != nil || len(more) != 0 {
		t.Fatalf("claim at the cap: %d, %v; want 0", len(more), err)
	}
	if err := s.DeliverySucceed(ctx, cs[0].Delivery.ID, cs[0].Delivery.LeaseToken, attempt(1, 200, "")); err != nil {
		t.Fatal(err)
	}
	if more, err := s.DeliveryClaim(ctx, p); err != nil || len(more) != 1 {
		t.Fatalf("after one finished: %d, %v; want 1", len(more), err)
	}
	// Once the leases expire they no longer count (and are claimable again).
	p.Now = t0.Add(2 * time.Minute)
	if more, err := s.DeliveryClaim(ctx, p); err != nil || len(more) != 3 {
		t.Fatalf("after lease expiry: %d, %v; want 3", len(more), err)
	}
}

// testClaimMaxInFlightConcurrent: claimers racing never exceed the cap
// together.
func testClaimMaxInFlightConcurrent(t *testing.T, s store.Store) {
	for i := range 40 {
		mustIngest(t, s, event("shop", fmt.Sprint("mifc-", i), t0), route("oms", 1))
	}
	var total atomic.Int64
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 3 {
				cs, err := s.DeliveryClaim(context.Background(), store.ClaimParams{Destination: "oms", Owner: fmt.Sprint("w", w),
					Limit: 4, Lease: time.Minute, Now: t0, MaxInFlight: 5})
				if err != nil {
					t.Error(err)
					return
				}
				total.Add(int64(len(cs)))
			}
		}()
	}
	wg.Wait()
	if total.Load() != 5 {
		t.Fatalf("racing claimers leased %d, want exactly the cap of 5", total.Load())
	}
}
