package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/api"
	"github.com/hookyard/hookyard/internal/drift"
)

// TestSchemaDrift: a node learns the shape of orders/create, freezes the
// baseline after three events, and reports a changed event's drift on the
// admin API and as a metric. Signed requests carry topic orders/create.
func TestSchemaDrift(t *testing.T) {
	sk := newSink(t, nil)
	n := startNode(t, httpDest("oms", sk.srv.URL, ""), `  - {source: shop, destination: oms}`,
		"drift:\n  enabled: true\n  baseline_after: 3\n  flush_interval: 50ms\n")
	ctx := context.Background()
	waitDrift := func(what string, ok func(api.DriftList) bool) api.DriftList {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			l, err := n.client.Drift(ctx, "shop", "orders/create")
			if err != nil {
				t.Fatal(err)
			}
			if ok(l) {
				return l
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: drift = %+v", what, l)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	for i := range 3 {
		post(t, n.ingestURL("shop"), fmt.Appendf(nil, `{"id":%d,"email":"a@b.c","total_price":"19.99"}`, i), fmt.Sprint("drift-", i))
	}
	post(t, n.ingestURL("shop"), []byte(`{"id":0,"email":"a@b.c","total_price":"19.99"}`), "drift-0") // a duplicate: not counted
	waitDrift("baseline after 3 events", func(l api.DriftList) bool {
		return len(l.Streams) == 1 && l.Streams[0].Frozen && l.Streams[0].BaselineEvents == 3
	})
	_, ack := post(t, n.ingestURL("shop"), []byte(`{"id":9,"total_price":19.99,"coupon":"X"}`), "drift-9")
	id, _ := decodeAck(t, ack)
	// The stream's event count and its changes are flushed separately, so
	// wait for both.
	l := waitDrift("drift of the fourth event", func(l api.DriftList) bool {
		return len(l.Streams[0].Changes) == 3 && l.Streams[0].Events == 4
	})
	want := fmt.Sprintf("%+v", []drift.Change{
		{Path: ".coupon", Kind: "new", Type: "string", Count: 1, Example: id},
		{Path: ".email", Kind: "missing", BaselineTypes: []string{"string"}, Count: 1, Example: id},
		{Path: ".total_price", Kind: "type_changed", Type: "number", BaselineTypes: []string{"string"}, Count: 1, Example: id},
	})
	if got := fmt.Sprintf("%+v", l.Streams[0].Changes); got != want || l.Streams[0].Events != 4 {
		t.Fatalf("changes:\n got %s\nwant %s (events %d)", got, want, l.Streams[0].Events)
	}
	// The gauges are set after the flush's write becomes visible on the
	// API, so wait for them too.
	deadline := time.Now().Add(20 * time.Second)
	for {
		m := scrape(t, n)
		var wrong []string
		for _, kind := range []string{"new", "missing", "type_changed"} {
			if v := m[`hookyard_schema_drift_paths{kind="`+kind+`",source="shop",topic="orders/create"}`]; v != 1 {
				wrong = append(wrong, fmt.Sprintf("%s = %v", kind, v))
			}
		}
		if len(wrong) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("hookyard_schema_drift_paths (want 1 each): %v", wrong)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The CLI lists the same.
	list := nodeCLI(t, n, "drift", "list", "--source", "shop")
	var lines []string // each line's fields, single-spaced
	for l := range strings.Lines(list) {
		lines = append(lines, strings.Join(strings.Fields(l), " "))
	}
	for _, w := range []string{"shop orders/create frozen 4 3 3", ".coupon new string - 1 " + id,
		".email missing - string 1 " + id, ".total_price type_changed number string 1 " + id} {
		if !slices.Contains(lines, w) {
			t.Errorf("drift list lacks %q:\n%s", w, list)
		}
	}
	// So does the console, and an operator accepts the drift there.
	hc := consoleLogin(t, n)
	page := pageGet(t, hc, n, "/console/drift")
	for _, w := range []string{`<td class="mono">.coupon</td><td>new</td><td>string</td>`,
		`<td class="mono">.total_price</td><td>type_changed</td><td>number</td><td>string</td><td class="num">1</td>`,
		`href="/console/events/` + id + `"`, "frozen at 3 events", `class="freeze">Accept drift (re-freeze)`} {
		if !strings.Contains(page, w) {
			t.Errorf("drift page lacks %q:\n%s", w, page)
		}
	}
	resp, err := hc.PostForm("http://"+n.adminAddr+"/console/drift/freeze",
		url.Values{"csrf": {csrfOf(t, page)}, "source": {"shop"}, "topic": {"orders/create"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "Baseline of shop orders/create frozen") || !strings.Contains(string(body), "frozen at 4 events") ||
		!strings.Contains(string(body), "No drift since the baseline.") {
		t.Fatalf("after freezing in the console: %d\n%s", resp.StatusCode, body)
	}
	// Accepting the change: the freeze command re-freezes.
	if out := nodeCLI(t, n, "drift", "freeze", "--source", "shop", "--topic", "orders/create"); out != "shop orders/create: baseline frozen at 4 events (6 paths)\n" {
		t.Errorf("drift freeze: %q", out)
	}
	rep, err := n.client.DriftFreeze(ctx, "shop", "orders/create")
	if err != nil || len(rep.Changes) != 0 || rep.BaselineEvents != 4 {
		t.Fatalf("freeze = %+v, %v", rep, err)
	}
}
