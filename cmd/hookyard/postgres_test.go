package main

import (
	"context"
	"github.com/hookyard/hookyard/internal/store/storetest"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/webhook"
)

// TestNodeOnPostgres runs a whole node with storage.driver postgres: a
// signed webhook is stored and delivered, and a duplicate is recognised.
func TestNodeOnPostgres(t *testing.T) {
	dsn, _ := storetest.PostgresDSN(t, "hy_node")
	ctx := context.Background()

	sk := newSink(t, nil)
	n := startPGNode(t, dsn, httpDest("oms", sk.srv.URL, ""), "  - {source: shop, destination: oms}")
	srv := n.server
	_, ack := post(t, n.ingestURL("shop"), orderBody(1), "pg-1")
	id, dup := decodeAck(t, ack)
	if dup {
		t.Fatal("first copy reported as duplicate")
	}
	got := sk.next(t)
	if got.header.Get("Hookyard-Event-Id") != id {
		t.Fatalf("delivered %q, want event %s", got.header.Get("Hookyard-Event-Id"), id)
	}
	_, ack = post(t, n.ingestURL("shop"), orderBody(1), "pg-1")
	if id2, dup := decodeAck(t, ack); !dup || id2 != id {
		t.Fatalf("duplicate: %s %v", id2, dup)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		d, err := srv.store.DeliveryGet(ctx, "dlv_"+id[len("evt_"):]+".0")
		if err == nil && d.State == webhook.StateSucceeded {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery state: %+v %v", d, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
