package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/api"
	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"
)

// killWith dead-letters every due delivery of dest with one attempt of the
// given class.
func (f *fixture) killWith(t *testing.T, dest string, code int, class string) {
	t.Helper()
	f.killAt(t, dest, code, class, t0)
}

// killAt is killWith for the deliveries due by at.
func (f *fixture) killAt(t *testing.T, dest string, code int, class string, at time.Time) {
	t.Helper()
	ctx := context.Background()
	cs, err := f.store.DeliveryClaim(ctx, store.ClaimParams{Destination: dest, Owner: "test", Limit: 1000, Lease: time.Minute, Now: at})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if err := f.store.DeliveryDead(ctx, c.Delivery.ID, c.Delivery.LeaseToken, webhook.Attempt{Number: 1, StartedAt: t0,
			StatusCode: code, ErrorClass: class, Error: "failed"}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDLQReplayByFilter(t *testing.T) {
	f := setup(t)
	f.seed(t) // two dead crm deliveries, class 4xx
	for range 3 {
		f.ingest(t, "shop", "orders/create", []byte(`{}`), "erp")
	}
	f.killWith(t, "erp", 503, webhook.ClassHTTP5xx)
	f.ingest(t, "shop", "orders/create", []byte(`{}`), "erp")
	f.killWith(t, "erp", 0, webhook.ClassTimeout)
	ctx := context.Background()
	c := f.client(operatorToken)
	at := func(tm time.Time) string { return tm.Format(time.RFC3339) }

	for _, tt := range []struct {
		name string
		req  api.ReplayRequest
		want int
	}{
		{"all dead", api.ReplayRequest{}, 6},
		{"destination", api.ReplayRequest{Destination: "erp"}, 4},
		{"class 5xx", api.ReplayRequest{ErrorClasses: []string{"5xx"}}, 3},
		{"class 5xx or timeout", api.ReplayRequest{ErrorClasses: []string{"5xx", "timeout"}}, 4},
		{"class and destination", api.ReplayRequest{Destination: "crm", ErrorClasses: []string{"5xx"}}, 0},
		{"route", api.ReplayRequest{Route: "woo->crm"}, 1},
		{"since covers", api.ReplayRequest{Since: at(t0)}, 6},
		{"until excludes", api.ReplayRequest{Until: at(t0)}, 0},
		{"cancelled state", api.ReplayRequest{States: []string{"cancelled"}}, 0},
	} {
		tt.req.All, tt.req.DryRun = true, true
		res, err := c.DLQReplay(ctx, tt.req)
		if err != nil || res.Matched != tt.want || res.Replayed != 0 || !res.DryRun {
			t.Errorf("%s: %+v, %v; want a dry run matching %d", tt.name, res, err, tt.want)
		}
	}
	// The real thing: only the 5xx dead letters come back.
	res, err := c.DLQReplay(ctx, api.ReplayRequest{All: true, ErrorClasses: []string{"5xx"}})
	if err != nil || res.Matched != 3 || res.Replayed != 3 {
		t.Fatalf("replay 5xx: %+v %v", res, err)
	}
	left, err := c.DLQ(ctx, api.DeliveryQuery{ErrorClasses: []string{"5xx"}})
	if err != nil || len(left.Deliveries) != 0 {
		t.Fatalf("5xx dead letters left: %+v %v", left, err)
	}
	left, err = c.DLQ(ctx, api.DeliveryQuery{})
	if err != nil || len(left.Deliveries) != 3 {
		t.Fatalf("other dead letters: %d %v, want 3 untouched", len(left.Deliveries), err)
	}
	// Cancelled deliveries can be replayed when asked for by state.
	_, ids := f.ingest(t, "shop", "orders/create", []byte(`{}`), "oms")
	if _, err := f.store.DeliveryCancel(ctx, ids, t0); err != nil {
		t.Fatal(err)
	}
	if res, err := c.DLQReplay(ctx, api.ReplayRequest{IDs: ids, States: []string{"cancelled"}}); err != nil || res.Replayed != 1 {
		t.Fatalf("replay cancelled by id: %+v %v", res, err)
	}
}

func TestDLQReplayFilterErrors(t *testing.T) {
	f := setup(t)
	for _, tt := range []struct{ body, has string }{
		{`{"all":true,"error_classes":["6xx"]}`, "error_class"},
		{`{"all":true,"states":["pending"]}`, "states"},
		{`{"ids":["a"],"error_classes":["5xx"]}`, "filter only"},
		{`{"all":true,"since":"2026-11-28T12:00:00Z","until":"2026-11-28T11:00:00Z"}`, "since"},
		{`{"all":true,"since":"yesterday"}`, "since"},
	} {
		status, h, body := f.do(t, "POST", "/api/v1/dlq/replay", operatorToken, tt.body)
		if status != http.StatusBadRequest || h.Get("Content-Type") != "application/problem+json" || !strings.Contains(body, tt.has) {
			t.Errorf("%s: %d %s, want 400 naming %q", tt.body, status, body, tt.has)
		}
	}
	status, _, body := f.do(t, "GET", "/api/v1/dlq?error_class=nope", viewerToken, "")
	if status != http.StatusBadRequest || !strings.Contains(body, "error_class") {
		t.Errorf("dlq list with bad class: %d %s", status, body)
	}
}

// A paced replay spreads the deliveries' due times at the asked rate, a
// tenth of a second's worth at a time, and says when the last becomes due.
func TestDLQReplayPaced(t *testing.T) {
	f := setup(t)
	for range 25 {
		f.ingest(t, "shop", "orders/create", []byte(`{}`), "erp")
	}
	f.killWith(t, "erp", 503, webhook.ClassHTTP5xx)
	ctx := context.Background()
	c := f.client(operatorToken)
	res, err := c.DLQReplay(ctx, api.ReplayRequest{All: true, Destination: "erp", Rate: 10})
	if err != nil || res.Replayed != 25 {
		t.Fatalf("paced replay: %+v %v", res, err)
	}
	// 25 at 10/s, one per tenth of a second: due at t0, t0+0.1s, …, t0+2.4s.
	if want := t0.Add(2400 * time.Millisecond); !res.DueUntil.Equal(want) {
		t.Fatalf("due_until = %v, want %v", res.DueUntil, want)
	}
	ds, _, err := f.store.DeliveryList(ctx, store.DeliveryFilter{Destination: "erp", States: []webhook.State{webhook.StatePending}, Limit: 100})
	if err != nil || len(ds) != 25 {
		t.Fatalf("pending after replay: %d %v", len(ds), err)
	}
	perSlot := map[time.Duration]int{}
	for _, d := range ds {
		off := d.NextAttemptAt.Sub(t0)
		if off < 0 || off > 2400*time.Millisecond || off%(100*time.Millisecond) != 0 {
			t.Fatalf("due at t0%+v, want a tenth-second step within 2.4 s", off)
		}
		perSlot[off]++
	}
	for off, n := range perSlot {
		if n != 1 {
			t.Errorf("%d deliveries due at t0+%v, want 1 per tenth of a second", n, off)
		}
	}

	// At 100/s a tenth of a second holds 10; unpaced, all are due at once.
	f.killAt(t, "erp", 503, webhook.ClassHTTP5xx, t0.Add(time.Hour))
	if res, err = c.DLQReplay(ctx, api.ReplayRequest{All: true, Rate: 100}); err != nil || res.Replayed != 25 ||
		!res.DueUntil.Equal(t0.Add(200*time.Millisecond)) {
		t.Fatalf("replay at 100/s: %+v %v; want due_until t0+200ms", res, err)
	}
	f.killAt(t, "erp", 503, webhook.ClassHTTP5xx, t0.Add(time.Hour))
	if res, err = c.DLQReplay(ctx, api.ReplayRequest{All: true}); err != nil || res.Replayed != 25 || !res.DueUntil.IsZero() {
		t.Fatalf("unpaced replay: %+v %v", res, err)
	}
	for _, body := range []string{`{"all":true,"rate":-1}`, `{"all":true,"rate":1e9}`} {
		if status, _, b := f.do(t, "POST", "/api/v1/dlq/replay", operatorToken, body); status != 400 || !strings.Contains(b, "rate") {
			t.Errorf("%s = %d %s, want 400 naming rate", body, status, b)
		}
	}
}
