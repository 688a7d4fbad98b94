package main

import (
	"context"
	"testing"

	"github.com/hookyard/hookyard/internal/api"
	"github.com/hookyard/hookyard/internal/webhook"
)

// TestAdminOnNode runs a real node: a token created through its API
// replays a dead letter, the replay is in the audit log, and the routes,
// destinations and OpenAPI endpoints answer from the node's own config.
func TestAdminOnNode(t *testing.T) {
	sk := newSink(t, func(n int) int {
		if n == 0 { // the first request is refused: a dead letter
			return 400
		}
		return 200
	})
	n := startNode(t, httpDest("oms", sk.srv.URL, ""), "  - {name: all-orders, source: shop, destination: oms}")
	ctx := context.Background()
	_, ack := post(t, n.ingestURL("shop"), orderBody(1), "wh-1")
	id, _ := decodeAck(t, ack)
	d := waitState(t, n, id, webhook.StateDead)

	created, err := n.client.CreateToken(ctx, api.TokenRequest{Name: "oncall", Role: "operator"})
	if err != nil {
		t.Fatal(err)
	}
	oncall := &api.Client{BaseURL: n.client.BaseURL, Token: created.Token}
	if _, err := oncall.ReplayDelivery(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	waitState(t, n, id, webhook.StateSucceeded)

	l, err := n.client.Audit(ctx, api.AuditQuery{Ascending: true})
	if err != nil || len(l.Entries) != 2 || l.Entries[1].Actor != "oncall" || l.Entries[1].Target != d.ID ||
		l.Entries[1].Outcome != "ok" {
		t.Fatalf("audit = %+v, %v", l, err)
	}
	if v, err := n.client.AuditVerify(ctx); err != nil || !v.OK || v.Verified != 2 {
		t.Fatalf("verify = %+v, %v", v, err)
	}
	rl, err := oncall.Routes(ctx)
	if err != nil || len(rl.Routes) != 1 || rl.Routes[0].Name != "all-orders" {
		t.Fatalf("routes = %+v, %v", rl, err)
	}
	dl, err := oncall.Destinations(ctx)
	if err != nil || len(dl.Destinations) != 1 || dl.Destinations[0].Name != "oms" {
		t.Fatalf("destinations = %+v, %v", dl, err)
	}
}
