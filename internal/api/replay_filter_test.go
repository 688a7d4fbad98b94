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
	ctx := context.Background()
	cs, err := f.store.DeliveryClaim(ctx, store.ClaimParams{Destination: dest, Owner: "test", Limit: 1000, Lease: time.Minute, Now: t0})
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
