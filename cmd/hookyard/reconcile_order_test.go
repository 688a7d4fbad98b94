package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/reconcile/reconciletest"
	"github.com/hookyard/hookyard/internal/store"
)

// TestReconcileBackfillOrderedAndValidated: a Stripe source whose route has
// an ordering key and whose topics have a JSON Schema. Stripe lists 250
// events newest first over three pages; 30 never arrived as webhooks, one
// of which violates the schema. The run stores the 29 valid gaps oldest
// first, so the ordering-key route delivers them in the provider's
// chronological order; the invalid one is quarantined with the schema's
// reason, counted as an error, and never delivered.
func TestReconcileBackfillOrderedAndValidated(t *testing.T) {
	const total = 250
	now := time.Now()
	missing := map[int]bool{}
	for i := 3; len(missing) < 30; i += 8 { // spread over all three pages
		missing[i] = true
	}
	const invalid = 3 + 8*15 // one of the missing events: amount 0 breaks the schema
	var events [][]byte
	id := func(i int) string { return fmt.Sprintf("evt_1Pgc%020d", i) }
	for i := range total {
		amount := 1000 + i
		if i == invalid {
			amount = 0
		}
		created := now.Add(-100 * time.Minute).Add(time.Duration(i) * 10 * time.Second)
		events = append(events, reconciletest.StripeEvent(id(i), "payment_intent.succeeded", created, amount))
	}
	schemaPath := filepath.Join(t.TempDir(), "stripe.json")
	if err := os.WriteFile(schemaPath, []byte(`{"type":"object","required":["data"],"properties":{"data":{"type":"object",
		"properties":{"object":{"type":"object","properties":{"amount":{"type":"integer","minimum":1}}}}}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	fake := reconciletest.NewStripe(t, "rk_test_order", events)
	fake.Gate, fake.GateAfter = make(chan struct{}), ""

	sk := newSink(t, nil)
	n := startNode(t, httpDest("ledger", sk.srv.URL+"/stripe", ""),
		"  - {source: stripe, destination: ledger, ordering_key: '.body.data.object.currency'}",
		fmt.Sprintf("    schemas: {'*': '%s'}\n", schemaPath),
		"    reconcile:\n      every: 1h\n      lookback: 2h\n      backfill: true\n",
		fmt.Sprintf("      api: {base_url: '%s', token: rk_test_order}\n", fake.URL))
	for i, body := range events {
		if missing[i] {
			continue
		}
		if status, ack := postStripe(t, n.ingestURL("stripe"), body, nil); status != http.StatusAccepted {
			t.Fatalf("event %d: %d %s", i, status, ack)
		}
	}
	close(fake.Gate)

	ctx := context.Background()
	run := waitReconcileRuns(t, n, "stripe")[0]
	if run.State != store.RunDone || run.Listed != total || run.Missing != 30 || run.Backfilled != 29 || run.Quarantined != 1 || run.Errors != 0 ||
		!strings.Contains(run.LastError, id(invalid)) || !strings.Contains(run.LastError, "quarantined") {
		t.Fatalf("run %+v", run)
	}

	waitDelivered(t, n, total-1)
	var backfilled []string
	for _, r := range sk.requests() {
		var ev struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(r.body, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.ID == id(invalid) {
			t.Fatalf("the schema-violating backfill was delivered")
		}
		if r.header.Get("Hookyard-Origin") == "reconcile" {
			backfilled = append(backfilled, ev.ID)
		}
	}
	var want []string
	for i := range total {
		if missing[i] && i != invalid {
			want = append(want, id(i))
		}
	}
	if strings.Join(backfilled, ",") != strings.Join(want, ",") {
		t.Fatalf("backfills arrived in the order\n%v\nwant oldest first\n%v", backfilled, want)
	}

	q, err := n.client.Quarantine(ctx, "stripe", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Items) != 1 || q.Items[0].DedupKey != id(invalid) || !strings.Contains(q.Items[0].Reason, "Schema violation") ||
		!strings.Contains(q.Items[0].Reason, "amount") {
		t.Fatalf("quarantine %+v", q.Items)
	}
}
