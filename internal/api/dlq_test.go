package api_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/hookyard/hookyard/internal/api"
	"github.com/hookyard/hookyard/internal/webhook"
)

func TestDLQReplayByIDs(t *testing.T) {
	f := setup(t)
	s := f.seed(t)
	ctx := context.Background()
	c := f.client(operatorToken)
	before, err := c.Delivery(ctx, s.wooCRM)
	if err != nil {
		t.Fatal(err)
	}
	// One dead, one live, one unknown, and the dead one again.
	res, err := c.DLQReplay(ctx, api.ReplayRequest{IDs: []string{s.wooCRM, s.shopOMS, "dlv_nope", s.wooCRM}})
	if err != nil {
		t.Fatal(err)
	}
	if res != (api.ReplayResult{Matched: 1, Replayed: 1}) {
		t.Fatalf("result = %+v", res)
	}
	after, err := c.Delivery(ctx, s.wooCRM)
	if err != nil {
		t.Fatal(err)
	}
	if after.State != string(webhook.StatePending) || after.Delivery.Attempts != 0 || after.MaxAttempts != 5 {
		t.Errorf("after replay: state %s, attempts %d/%d; want pending with a fresh budget", after.State,
			after.Delivery.Attempts, after.MaxAttempts)
	}
	if after.IdempotencyKey != before.IdempotencyKey || after.IdempotencyKey == "" {
		t.Errorf("idempotency key changed: %q → %q", before.IdempotencyKey, after.IdempotencyKey)
	}
	if len(after.Attempts) != 1 || !after.CompletedAt.IsZero() {
		t.Errorf("replay should keep the attempt history and clear completion: %+v", after)
	}
	dlq, err := c.DLQ(ctx, api.DeliveryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(dlq.Deliveries) != 1 || dlq.Deliveries[0].ID != s.binCRM {
		t.Errorf("dlq after replay = %+v", dlq.Deliveries)
	}
	// Replaying it again matches nothing: it is no longer dead.
	res, err = c.DLQReplay(ctx, api.ReplayRequest{IDs: []string{s.wooCRM}})
	if err != nil || res != (api.ReplayResult{}) {
		t.Errorf("second replay = %+v, %v", res, err)
	}
}

func TestDLQReplayAll(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	// More than two store pages of dead deliveries for one destination, a
	// few for another, and live work that must not move.
	const many = 1007
	dests := make([]string, many)
	for i := range dests {
		dests[i] = "oms"
	}
	f.ingest(t, "shop", "orders/create", []byte(`{}`), dests...)
	f.kill(t, "oms")
	f.ingest(t, "shop", "orders/create", []byte(`{}`), "crm", "crm", "crm")
	f.kill(t, "crm")
	_, live := f.ingest(t, "shop", "orders/create", []byte(`{}`), "oms")
	c := f.client(adminToken)

	dry, err := c.DLQReplay(ctx, api.ReplayRequest{All: true, Destination: "oms", DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if dry != (api.ReplayResult{Matched: many, DryRun: true}) {
		t.Fatalf("dry run = %+v", dry)
	}
	if n := deadCount(t, c, "oms"); n != many {
		t.Fatalf("dry run changed the queue: %d dead", n)
	}

	res, err := c.DLQReplay(ctx, api.ReplayRequest{All: true, Destination: "oms"})
	if err != nil {
		t.Fatal(err)
	}
	if res != (api.ReplayResult{Matched: many, Replayed: many}) {
		t.Fatalf("replay all = %+v", res)
	}
	if n := deadCount(t, c, "oms"); n != 0 {
		t.Errorf("%d oms deliveries still dead", n)
	}
	if n := deadCount(t, c, "crm"); n != 3 {
		t.Errorf("crm dead = %d, want 3 (other destinations untouched)", n)
	}
	pending, err := c.Deliveries(ctx, api.DeliveryQuery{States: []string{"pending"}, Destination: "oms", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(pending.Deliveries, func(d api.Delivery) bool { return d.ID == live[0] }) {
		t.Errorf("live delivery %s missing from pending", live[0])
	}

	// A route filter that matches nothing replays nothing.
	res, err = c.DLQReplay(ctx, api.ReplayRequest{All: true, Route: "nope"})
	if err != nil || res != (api.ReplayResult{}) {
		t.Errorf("replay by unknown route = %+v, %v", res, err)
	}
	res, err = c.DLQReplay(ctx, api.ReplayRequest{All: true, Route: "shop->crm"})
	if err != nil || res != (api.ReplayResult{Matched: 3, Replayed: 3}) {
		t.Errorf("replay by route = %+v, %v", res, err)
	}
}

// deadCount pages through the DLQ of dest.
func deadCount(t *testing.T, c *api.Client, dest string) int {
	t.Helper()
	n := 0
	q := api.DeliveryQuery{Destination: dest, Limit: 400}
	for {
		page, err := c.DLQ(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Deliveries)
		if page.NextCursor == "" {
			return n
		}
		q.Cursor = page.NextCursor
	}
}

func TestPagination(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	var want []string
	for i := range 7 {
		id, _ := f.ingest(t, "shop", "orders/create", fmt.Appendf(nil, `{"n":%d}`, i), "oms", "crm")
		want = append(want, id)
	}
	slices.Reverse(want) // newest first
	c := f.client(viewerToken)

	var got []string
	q := api.EventQuery{Source: "shop", Limit: 3}
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatal("pagination does not end")
		}
		page, err := c.Events(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Events {
			got = append(got, e.ID)
		}
		if page.NextCursor == "" {
			break
		}
		q.Cursor = page.NextCursor
	}
	if !slices.Equal(got, want) {
		t.Errorf("events across pages = %v, want %v", got, want)
	}

	seen := map[string]bool{}
	dq := api.DeliveryQuery{Limit: 4}
	for pages := 0; ; pages++ {
		page, err := c.Deliveries(ctx, dq)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Deliveries) > 4 {
			t.Fatalf("page of %d, limit 4", len(page.Deliveries))
		}
		for _, d := range page.Deliveries {
			if seen[d.ID] {
				t.Fatalf("delivery %s on two pages", d.ID)
			}
			seen[d.ID] = true
		}
		if page.NextCursor == "" {
			break
		}
		dq.Cursor = page.NextCursor
	}
	if len(seen) != 14 {
		t.Errorf("deliveries across pages = %d, want 14", len(seen))
	}
}

func TestClient(t *testing.T) {
	f := setup(t)
	s := f.seed(t)
	ctx := context.Background()
	c := f.client(operatorToken)

	id, err := c.Whoami(ctx)
	if err != nil || id != (api.Identity{Name: "oncall", Role: "operator"}) {
		t.Errorf("whoami = %+v, %v", id, err)
	}

	for _, tc := range []struct {
		id       string
		body     []byte
		encoding string
	}{
		{s.shop, []byte(`{"id":1,"note":"` + bodyMarker + `"}`), api.EncodingJSON},
		{s.woo, []byte("a=1&b=2"), api.EncodingText},
		{s.bin, []byte{0xff, 0xfe, 0x00, 0x01}, api.EncodingBase64},
	} {
		ev, err := c.Event(ctx, tc.id)
		if err != nil {
			t.Fatal(err)
		}
		body, err := ev.RawBody()
		if err != nil || string(body) != string(tc.body) || ev.BodyEncoding != tc.encoding {
			t.Errorf("event %s body = %q (%s), %v; want %q (%s)", tc.id, body, ev.BodyEncoding, err, tc.body, tc.encoding)
		}
	}

	ev, err := c.Event(ctx, s.woo)
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.Deliveries) != 1 || len(ev.Deliveries[0].History) != 1 || ev.Deliveries[0].History[0].StatusCode != 400 {
		t.Errorf("event deliveries = %+v", ev.Deliveries)
	}
	if got := ev.Headers["Stripe-Signature"]; len(got) != 1 || got[0] != "***" {
		t.Errorf("Stripe-Signature = %v", got)
	}

	d, err := c.ReplayDelivery(ctx, s.wooCRM)
	if err != nil || d.State != "pending" || d.Attempts != 0 {
		t.Errorf("replay = %+v, %v", d, err)
	}
	d, err = c.CancelDelivery(ctx, s.wooCRM)
	if err != nil || d.State != "cancelled" {
		t.Errorf("cancel = %+v, %v", d, err)
	}

	// Problems come back as errors carrying status and detail.
	_, err = c.CancelDelivery(ctx, s.wooCRM)
	var p *api.Problem
	if !errors.As(err, &p) || p.Status != http.StatusConflict || !strings.Contains(err.Error(), "cancelled") {
		t.Errorf("cancel twice = %v", err)
	}
	_, err = c.Event(ctx, "evt_nope")
	if !errors.Is(err, webhook.ErrNotFound) || !strings.Contains(err.Error(), "404") {
		t.Errorf("missing event = %v", err)
	}
	_, err = c.Deliveries(ctx, api.DeliveryQuery{States: []string{"zombie"}})
	if !errors.Is(err, webhook.ErrInvalid) || !strings.Contains(err.Error(), "state") {
		t.Errorf("bad state = %v", err)
	}
	_, err = f.client(viewerToken).DLQReplay(ctx, api.ReplayRequest{All: true, DryRun: true})
	if !errors.Is(err, webhook.ErrForbidden) {
		t.Errorf("viewer replay = %v", err)
	}
	_, err = f.client(badToken).Whoami(ctx)
	if !errors.Is(err, webhook.ErrUnauthorized) {
		t.Errorf("bad token = %v", err)
	}
	// Not everything in front of the API speaks problem+json.
	proxy := &api.Client{BaseURL: f.srv.URL + "/elsewhere", Token: adminToken, HTTP: f.srv.Client()}
	if _, err := proxy.Whoami(ctx); !errors.As(err, &p) || p.Status != http.StatusNotFound {
		t.Errorf("non-problem error = %v", err)
	}
}
