package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/api"
	"github.com/hookyard/hookyard/internal/reconcile/reconciletest"
	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/verify"
	"github.com/hookyard/hookyard/internal/webhook"
)

const stripeTestSecret = "whsec_test_0123456789"

// postStripe signs body as Stripe would and posts it to the stripe source.
func postStripe(t *testing.T, url string, body []byte, extra http.Header) (int, []byte) {
	t.Helper()
	p, _ := verify.Lookup("stripe")
	h, err := p.Sign(stripeTestSecret, body, verify.SignOptions{Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header = h
	req.Header.Set("Content-Type", "application/json")
	for k, v := range extra {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// TestReconcileScenario: Stripe lists 1,000 events; 37 of them never
// arrived as webhooks. The leader's scheduled run finds exactly those 37,
// backfills them through the normal pipeline, and each of the 1,000
// reaches the destination exactly once. The real webhook for one of the
// 37, arriving late, is a duplicate and is not delivered again.
func TestReconcileScenario(t *testing.T) {
	const total, lost = 1000, 37
	now := time.Now()
	rng := rand.New(rand.NewPCG(9, 37))
	missing := map[int]bool{}
	for len(missing) < lost {
		missing[rng.IntN(total)] = true
	}
	var events [][]byte
	for i := range total {
		created := now.Add(-90 * time.Minute).Add(time.Duration(i) * 5 * time.Second)
		events = append(events, reconciletest.StripeEvent(fmt.Sprintf("evt_1Pgc%020d", i), "payment_intent.succeeded", created, 1000+i))
	}
	fake := reconciletest.NewStripe(t, "rk_test_scenario", events)
	fake.Faults = []int{http.StatusTooManyRequests, http.StatusBadGateway} // rate limited, then a transient error
	// The scheduled run starts with the node; hold its first listing until
	// the real webhooks have arrived.
	fake.Gate, fake.GateAfter = make(chan struct{}), ""

	sk := newSink(t, nil)
	n := startNode(t, httpDest("ledger", sk.srv.URL+"/stripe", ""), "  - {source: stripe, destination: ledger}",
		"    reconcile:\n      every: 1h\n      lookback: 2h\n      backfill: true\n      alert_threshold: 10\n",
		fmt.Sprintf("      api: {base_url: '%s', token: rk_test_scenario}\n", fake.URL))

	for i, body := range events {
		if missing[i] {
			continue
		}
		var spoof http.Header
		if i%100 == 0 { // a sender cannot mark its webhook as backfilled
			spoof = http.Header{"Hookyard-Origin": {"reconcile"}}
		}
		if status, ack := postStripe(t, n.ingestURL("stripe"), body, spoof); status != http.StatusAccepted {
			t.Fatalf("event %d: %d %s", i, status, ack)
		}
	}
	close(fake.Gate)

	ctx := context.Background()
	scheduled := waitReconcileRuns(t, n, "stripe")
	if len(scheduled) != 1 {
		t.Fatalf("runs %+v: want the one scheduled run", scheduled)
	}
	run := scheduled[0]
	if run.State != store.RunDone || run.Trigger != "schedule" || run.Listed != total || run.Matched != total-lost ||
		run.Missing != lost || run.Backfilled != lost || run.Errors != 0 {
		t.Fatalf("run %+v", run)
	}

	// Every event reaches the destination, and nothing is left to send.
	waitDelivered(t, n, total)
	seen := map[string]int{}
	marked := 0
	for _, r := range sk.requests() {
		if r.header.Get("Hookyard-Origin") == "reconcile" {
			marked++
		}
		var ev struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(r.body, &ev); err != nil {
			t.Fatal(err)
		}
		seen[ev.ID]++
	}
	if marked != lost {
		t.Fatalf("%d deliveries carried Hookyard-Origin: reconcile, want %d", marked, lost)
	}
	for i := range total {
		if id := fmt.Sprintf("evt_1Pgc%020d", i); seen[id] != 1 {
			t.Fatalf("%s delivered %d times", id, seen[id])
		}
	}

	// A backfilled event is marked as such.
	var late int
	for i := range missing {
		late = i
		break
	}
	lateID := fmt.Sprintf("evt_1Pgc%020d", late)
	page, err := n.client.Events(ctx, api.EventQuery{Source: "stripe", DedupKey: lateID})
	if err != nil || len(page.Events) != 1 {
		t.Fatalf("events with key %s: %+v %v", lateID, page.Events, err)
	}
	ev, err := n.client.Event(ctx, page.Events[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := ev.Headers["Hookyard-Origin"]; len(got) != 1 || got[0] != "reconcile" {
		t.Fatalf("backfilled event headers %v", ev.Headers)
	}

	// The real webhook arrives late: a duplicate, not a second delivery.
	status, ack := postStripe(t, n.ingestURL("stripe"), events[late], nil)
	id, dup := decodeAck(t, ack)
	if status != http.StatusOK || !dup || id != ev.ID {
		t.Fatalf("late webhook: %d %s, want 200 duplicate of %s", status, ack, ev.ID)
	}
	waitDelivered(t, n, total)
	if c := sk.count(); c != total {
		t.Fatalf("destination received %d requests, want %d", c, total)
	}

	// 37 gaps is above the threshold of 10: the alert fires.
	alerts, err := n.client.Alerts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	firing := false
	for _, a := range alerts.Firing {
		firing = firing || a.Key == "reconcile-gaps/stripe"
	}
	if !firing {
		t.Fatalf("no reconcile-gaps alert firing: %+v", alerts.Firing)
	}

	// Metrics: gaps found per source.
	resp, err := http.Get("http://" + n.adminAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metricsText, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`hookyard_reconcile_gaps_total{source="stripe"} 37`,
		`hookyard_reconcile_backfilled_total{source="stripe"} 37`, `hookyard_reconcile_runs_total{source="stripe",state="done"} 1`} {
		if !strings.Contains(string(metricsText), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// On demand, through the CLI: the same window now has no gaps.
	var out, errOut bytes.Buffer
	getenv := func(k string) string {
		if k == "HOOKYARD_TOKEN" {
			return adminToken
		}
		return ""
	}
	err = run_(t, []string{"reconcile", "run", "--url", "http://" + n.adminAddr, "--since", "2h", "stripe"}, getenv, &out, &errOut)
	if err != nil {
		t.Fatalf("reconcile run: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "done") || !strings.Contains(out.String(), fmt.Sprint(total)) {
		t.Fatalf("reconcile run printed:\n%s", out.String())
	}
	out.Reset()
	if err := run_(t, []string{"reconcile", "runs", "--url", "http://" + n.adminAddr, "--json"}, getenv, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	var runs api.ReconcileRunList
	if err := json.Unmarshal(out.Bytes(), &runs); err != nil {
		t.Fatal(err)
	}
	if len(runs.Runs) != 2 || runs.Runs[0].Trigger != "manual" || runs.Runs[0].Missing != 0 || runs.Runs[0].Listed != total {
		t.Fatalf("runs %+v", runs.Runs)
	}
	if c := sk.count(); c != total {
		t.Fatalf("destination received %d requests after the manual run, want %d", c, total)
	}
}

func run_(t *testing.T, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	t.Helper()
	return run(context.Background(), args, getenv, strings.NewReader(""), stdout, stderr)
}

// waitDelivered waits until want deliveries succeeded and none is live.
func waitDelivered(t *testing.T, n *node, want int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ok, err := n.store.DeliveryCount(context.Background(), store.DeliveryFilter{States: []webhook.State{webhook.StateSucceeded}})
		if err != nil {
			t.Fatal(err)
		}
		live, err := n.store.DeliveryCount(context.Background(), store.DeliveryFilter{States: []webhook.State{webhook.StatePending, webhook.StateInFlight}})
		if err != nil {
			t.Fatal(err)
		}
		if ok == want && live == 0 {
			return
		}
		if ok > want || time.Now().After(deadline) {
			t.Fatalf("%d deliveries succeeded and %d live, want %d and 0", ok, live, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// requests returns a copy of what the sink received.
func (s *sink) requests() []sinkReq {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sinkReq(nil), s.reqs...)
}

// waitReconcileRuns waits until the newest recorded run of source has
// finished, and returns the runs listed then, newest first.
func waitReconcileRuns(t *testing.T, n *node, source string) []api.ReconcileRun {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		list, err := n.client.ReconcileRuns(context.Background(), source, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Runs) > 0 && list.Runs[0].State != store.RunRunning {
			return list.Runs
		}
		if time.Now().After(deadline) {
			t.Fatalf("the scheduled run did not finish: %+v", list.Runs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
