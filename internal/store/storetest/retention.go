package storetest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"
)

// testRetention checks store.Retention: old finished events go with their
// deliveries and attempts, in batches; live work, dead letters (unless
// their own bound allows) and recent events stay.
func testRetention(t *testing.T, open Opener) {
	s := open(t)
	t.Cleanup(func() { s.Close() })
	r, ok := s.(store.Retention)
	if !ok {
		t.Fatalf("%T does not implement store.Retention", s)
	}
	ctx := context.Background()
	old, recent := t0.Add(-40*24*time.Hour), t0.Add(-24*time.Hour)
	ids := map[string]string{} // name → event id
	ingest := func(name string, at time.Time, dests ...string) {
		t.Helper()
		var ds []webhook.NewDelivery
		for _, d := range dests {
			ds = append(ds, route(d, 1))
		}
		ids[name] = mustIngest(t, s, event("shop", name, at), ds...).EventID
	}
	// One destination per event, so each claim takes exactly that work.
	ingest("succeeded", old, "d-succeeded")
	ingest("succeeded2", old.Add(time.Second), "d-succeeded2")
	ingest("cancelled", old.Add(2*time.Second), "d-cancelled")
	ingest("dead", old.Add(3*time.Second), "d-dead")
	ingest("pending", old.Add(4*time.Second), "d-pending")
	ingest("inflight", old.Add(5*time.Second), "d-inflight")
	ingest("half", old.Add(6*time.Second), "d-half-done", "d-half-live")
	ingest("unrouted", old.Add(7*time.Second))
	ingest("recent", recent, "d-recent")
	finish := func(dest string, how func(c webhook.Claimed) error) {
		t.Helper()
		cs := claim(t, s, dest, 1, t0)
		if len(cs) != 1 {
			t.Fatalf("claim %s: %d", dest, len(cs))
		}
		if err := how(cs[0]); err != nil {
			t.Fatal(err)
		}
	}
	succeed := func(c webhook.Claimed) error {
		return s.DeliverySucceed(ctx, c.Delivery.ID, c.Delivery.LeaseToken, attempt(1, 200, ""))
	}
	finish("d-succeeded", succeed)
	finish("d-succeeded2", succeed)
	finish("d-half-done", succeed)
	finish("d-recent", succeed)
	finish("d-dead", func(c webhook.Claimed) error {
		return s.DeliveryDead(ctx, c.Delivery.ID, c.Delivery.LeaseToken, attempt(1, 400, webhook.ClassHTTP4xx))
	})
	finish("d-inflight", func(webhook.Claimed) error { return nil })
	cancel := store.DeliveryID(ids["cancelled"], 0)
	if n, err := s.DeliveryCancel(ctx, []string{cancel}, t0); err != nil || n != 1 {
		t.Fatalf("cancel: %d %v", n, err)
	}
	for i, at := range []time.Time{old, recent} {
		q := event("shop", fmt.Sprint("q", i), at)
		q.ID = webhook.NewID("qtn_", at)
		if err := s.Quarantine(ctx, q, "bad"); err != nil {
			t.Fatal(err)
		}
	}

	// Batches of two, resuming after the last examined id, as the job does.
	p := store.RetentionParams{Before: t0.Add(-30 * 24 * time.Hour), Limit: 2}
	var total store.RetentionResult
	calls := 0
	for {
		res, err := r.RetentionDelete(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		calls++
		if res.Examined > p.Limit || res.Events > res.Examined || res.Quarantined > p.Limit {
			t.Fatalf("one call examined %d events, deleted %d, and %d quarantined; limit %d", res.Examined, res.Events, res.Quarantined, p.Limit)
		}
		total.Events += res.Events
		total.Deliveries += res.Deliveries
		total.Attempts += res.Attempts
		total.Quarantined += res.Quarantined
		if res.Examined < p.Limit && res.Quarantined < p.Limit {
			break
		}
		p.After = res.Next
		if calls > 20 {
			t.Fatal("retention does not terminate")
		}
	}
	// succeeded, succeeded2, cancelled, unrouted: 4 events, 3 deliveries,
	// 2 attempts (cancelled had none); one old quarantined request.
	if total.Events != 4 || total.Deliveries != 3 || total.Attempts != 2 || total.Quarantined != 1 {
		t.Errorf("deleted %+v over %d calls, want 4 events, 3 deliveries, 2 attempts, 1 quarantined", total, calls)
	}
	// 8 old events examined two at a time: 4 full batches and a last,
	// empty one.
	if calls != 5 {
		t.Errorf("%d calls of limit 2 for 8 old events, want 5", calls)
	}
	gone := []string{"succeeded", "succeeded2", "cancelled", "unrouted"}
	kept := []string{"dead", "pending", "inflight", "half", "recent"}
	check := func(gone, kept []string) {
		t.Helper()
		for _, name := range gone {
			if _, err := s.EventGet(ctx, ids[name]); !errors.Is(err, webhook.ErrNotFound) {
				t.Errorf("event %s: %v, want deleted", name, err)
			}
			if _, err := s.DeliveryGet(ctx, store.DeliveryID(ids[name], 0)); name != "unrouted" && !errors.Is(err, webhook.ErrNotFound) {
				t.Errorf("delivery of %s: %v, want deleted", name, err)
			}
			if as, err := s.AttemptList(ctx, store.DeliveryID(ids[name], 0)); err == nil && len(as) != 0 {
				t.Errorf("attempts of %s: %d left", name, len(as))
			}
		}
		for _, name := range kept {
			if _, err := s.EventGet(ctx, ids[name]); err != nil {
				t.Errorf("event %s: %v, want kept", name, err)
			}
		}
	}
	check(gone, kept)
	if n, _ := s.DeliveryCount(ctx, store.DeliveryFilter{}); n != 6 {
		t.Errorf("%d deliveries left, want 6 (dead, pending, inflight, two of half, recent)", n)
	}
	qs, _, err := s.QuarantineList(ctx, store.QuarantineFilter{})
	if err != nil || len(qs) != 1 || qs[0].Event.DedupKey != "q1" {
		t.Errorf("quarantine after retention: %d rows (%v), want only the recent one", len(qs), err)
	}
	as, _ := s.AttemptList(ctx, store.DeliveryID(ids["dead"], 0))
	if len(as) != 1 {
		t.Errorf("dead delivery has %d attempts, want its 1 kept", len(as))
	}

	// Dead letters go only under their own bound.
	res, err := r.RetentionDelete(ctx, store.RetentionParams{Before: p.Before, DeadBefore: p.Before})
	if err != nil {
		t.Fatal(err)
	}
	if res.Events != 1 || res.Deliveries != 1 || res.Attempts != 1 {
		t.Errorf("with a dead-letter bound: %+v, want the dead event with its delivery and attempt", res)
	}
	check([]string{"dead"}, []string{"pending", "inflight", "half", "recent"})

	// Live work is kept until it finishes; then it goes too.
	finish("d-pending", succeed)
	res, err = r.RetentionDelete(ctx, store.RetentionParams{Before: p.Before})
	if err != nil || res.Events != 1 {
		t.Errorf("after the pending delivery succeeded: %+v %v, want its event deleted", res, err)
	}
	es, _, err := s.EventList(ctx, store.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, e := range es {
		left = append(left, e.DedupKey)
	}
	sort.Strings(left)
	if fmt.Sprint(left) != "[half inflight recent]" {
		t.Errorf("events left %v, want [half inflight recent]", left)
	}
}
