package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/transform"
	"github.com/hookyard/hookyard/internal/webhook"
)

// TestFanOutWithTransforms: one event, three routes, three shapes; a
// failing filter stays out, and every delivery carries a version stamp.
func TestFanOutWithTransforms(t *testing.T) {
	oms, wh, crm := newSink(t, nil), newSink(t, nil), newSink(t, nil)
	dir := t.TempDir()
	slim := filepath.Join(dir, "slim.jq")
	os.WriteFile(slim, []byte(`{order_id: .body.id, total: .body.total_price, currency: .body.currency}`), 0o600)
	dests := httpDest("oms", oms.srv.URL, "") + httpDest("warehouse", wh.srv.URL, "") + httpDest("crm", crm.srv.URL, "")
	routes := fmt.Sprintf(`  - {name: to-oms, source: shop, destination: oms, transform: %s, filter: '.topic == "orders/create"'}
  - {name: to-warehouse, source: shop, destination: warehouse, transform: '{fact_orders: [{order_id: .body.id, email_hash: (.body.email | length)}]}'}
  - {name: to-crm, source: shop, destination: crm, transform: '{email: .body.email, lifecycle: "customer"}'}
  - {name: refunds-only, source: shop, destination: crm, filter: '.topic == "refunds/create"'}
`, slim)
	n := startNode(t, dests, routes)
	_, ack := post(t, n.ingestURL("shop"), orderBody(42), "fan-1")
	id, _ := decodeAck(t, ack)
	var got [3]map[string]any
	for i, s := range []*sink{oms, wh, crm} {
		r := s.next(t)
		if err := json.Unmarshal(r.body, &got[i]); err != nil {
			t.Fatalf("sink %d got %s", i, r.body)
		}
	}
	if got[0]["order_id"] != float64(820982911946154500+42) || got[0]["total"] != "19.99" || len(got[0]) != 3 {
		t.Errorf("oms payload = %v", got[0])
	}
	if _, ok := got[1]["fact_orders"]; !ok {
		t.Errorf("warehouse payload = %v", got[1])
	}
	if got[2]["lifecycle"] != "customer" || got[2]["email"] != "buyer@example.com" {
		t.Errorf("crm payload = %v", got[2])
	}
	ev, err := n.client.Event(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.Deliveries) != 3 {
		t.Fatalf("deliveries = %d, want 3 (the refunds route must not match)", len(ev.Deliveries))
	}
	keys := map[string]bool{}
	for _, d := range ev.Deliveries {
		keys[d.ID] = true
	}
	if len(keys) != 3 {
		t.Error("fan-out deliveries share ids (and so idempotency keys)")
	}
}

// TestRunawayTransformDeadLettered: a transform that never ends is cut off
// by its time limit and dead-letters the delivery with class transform.
func TestRunawayTransformDeadLettered(t *testing.T) {
	sk := newSink(t, nil)
	n := startNode(t, httpDest("oms", sk.srv.URL, ""), `  - {source: shop, destination: oms, transform: 'def f: f; f'}`)
	_, ack := post(t, n.ingestURL("shop"), orderBody(1), "runaway")
	id, _ := decodeAck(t, ack)
	d := waitState(t, n, id, webhook.StateDead)
	if d.LastErrorClass != webhook.ClassTransform || sk.count() != 0 {
		t.Fatalf("delivery = %+v, sink requests %d", d, sk.count())
	}
}

// TestOrderingKeyWithFailures: updates to the same order arrive in the
// order received even when the destination fails at random.
func TestOrderingKeyWithFailures(t *testing.T) {
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(1, 2))
	arrived := map[float64][]float64{} // order id → sequence numbers, in arrival order
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b struct{ Order, Seq float64 }
		json.NewDecoder(r.Body).Decode(&b)
		mu.Lock()
		defer mu.Unlock()
		if rng.IntN(4) == 0 { // a quarter of attempts fail
			w.WriteHeader(503)
			return
		}
		arrived[b.Order] = append(arrived[b.Order], b.Seq)
	}))
	defer srv.Close()
	// Enough attempts that a 25% failure rate never dead-letters (0.25^40).
	d := fmt.Sprintf("  - {name: oms, type: http, url: %s, timeout: 2s, concurrency: 8, retry: {max_attempts: 40, initial_interval: 5ms, max_interval: 20ms}}\n", srv.URL)
	n := startNode(t, d, `  - {source: shop, destination: oms, ordering_key: '.body.order', transform: '{order: .body.order, seq: .body.seq}'}`)
	const orders, updates = 5, 12
	for s := 0; s < updates; s++ {
		for o := 0; o < orders; o++ {
			body := []byte(fmt.Sprintf(`{"order":%d,"seq":%d}`, o, s))
			if resp, b := post(t, n.ingestURL("shop"), body, fmt.Sprint("ord-", o, "-", s)); resp.StatusCode != 202 {
				t.Fatalf("%d %s", resp.StatusCode, b)
			}
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		total := 0
		for _, seqs := range arrived {
			total += len(seqs)
		}
		mu.Unlock()
		if total == orders*updates {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d delivered", total, orders*updates)
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	for o, seqs := range arrived {
		for i, s := range seqs {
			if s != float64(i) {
				t.Fatalf("order %v arrived out of order: %v", o, seqs)
			}
		}
	}
}

// TestHighPriorityOvertakesBacklog: a normal backlog fills every normal
// slot of a stuck destination; a high-priority event still goes through on
// the slots reserved for high priority, ahead of the whole backlog.
func TestHighPriorityOvertakesBacklog(t *testing.T) {
	gate := make(chan struct{})
	var mu sync.Mutex
	var order []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b struct{ Kind string }
		json.NewDecoder(r.Body).Decode(&b)
		if b.Kind != "vip" {
			select { // the normal backlog is stuck until the gate opens
			case <-gate:
			case <-r.Context().Done():
				return
			}
		}
		mu.Lock()
		order = append(order, b.Kind)
		mu.Unlock()
	}))
	defer srv.Close()
	n := startNode(t, httpDest("oms", srv.URL, "    concurrency: 4\n"),
		`  - {source: shop, destination: oms, priority: 'if .body.kind == "vip" then "high" else "normal" end', transform: '{kind: .body.kind}'}`)
	const backlog = 200
	for i := 0; i < backlog; i++ {
		post(t, n.ingestURL("shop"), []byte(fmt.Sprintf(`{"kind":"normal","i":%d}`, i)), fmt.Sprint("n-", i))
	}
	post(t, n.ingestURL("shop"), []byte(`{"kind":"vip"}`), "vip")
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		got := append([]string(nil), order...)
		mu.Unlock()
		if len(got) > 0 {
			if got[0] != "vip" {
				t.Fatalf("first delivery was %q, want the vip", got[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the vip was not delivered while the normal backlog held every normal slot")
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(gate)
	deadline = time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		done := len(order)
		mu.Unlock()
		if done == backlog+1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("backlog did not drain: %d of %d", done, backlog+1)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestPreviewCommand(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "hookyard.yaml")
	os.WriteFile(cfg, []byte(`sources:
  - {name: shop, provider: shopify, secrets: [s]}
destinations:
  - {name: oms, type: file, path: out.jsonl}
routes:
  - name: big-orders
    source: shop
    destination: oms
    filter: '.topic == "orders/create"'
    priority: 'if (.body.total_price | tonumber) >= 500 then "high" else "normal" end'
    ordering_key: '.body.id'
    transform: '{order_id: .body.id, total: .body.total_price}'
    shadow: '{order_id: .body.id, total: (.body.total_price | tonumber)}'
`), 0o600)
	var out bytes.Buffer
	err := run(context.Background(), []string{"preview", "--config", cfg, "--route", "big-orders", "--topic", "orders/create",
		"../../examples/payloads/shopify_orders_create.json"}, func(string) string { return "" }, strings.NewReader(""), &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Matched     bool
		Priority    string
		OrderingKey string `json:"ordering_key"`
		Output      map[string]any
		ShadowDiff  []struct{ Path, Kind string } `json:"shadow_diff"`
	}
	if err := json.Unmarshal(out.Bytes(), &st); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if !st.Matched || st.Priority != "high" || st.OrderingKey != "450789469" || st.Output["total"] != "598.94" {
		t.Errorf("stages = %+v", st)
	}
	if len(st.ShadowDiff) != 1 || st.ShadowDiff[0].Path != ".total" {
		t.Errorf("shadow diff = %+v", st.ShadowDiff)
	}
}

// TestTransformsConfigWired: the PII key and a lookup table named in the
// config reach the transforms, and the table is reloaded when its file
// changes.
func TestTransformsConfigWired(t *testing.T) {
	dir := t.TempDir()
	skus := filepath.Join(dir, "skus.csv")
	if err := os.WriteFile(skus, []byte("sku,warehouse\nIPOD-1,LOU1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sk := newSink(t, nil)
	const key = "pii-key-0123456789abcdef"
	n := startNode(t, httpDest("wh", sk.srv.URL, ""),
		`  - {source: shop, destination: wh, transform: '{who: (.body.email | hash_pii), warehouse: lookup("skus"; .body.sku).warehouse}'}`,
		fmt.Sprintf("transforms:\n  pii_key: %s\n  lookup_tables:\n    - {name: skus, path: %s, key: sku}\n", key, skus))
	send := func(id string) map[string]any {
		t.Helper()
		if resp, b := post(t, n.ingestURL("shop"), []byte(`{"email":" Buyer@Example.com","sku":"IPOD-1"}`), id); resp.StatusCode != 202 {
			t.Fatalf("%d %s", resp.StatusCode, b)
		}
		var got map[string]any
		if r := sk.next(t); json.Unmarshal(r.body, &got) != nil {
			t.Fatalf("payload %s", r.body)
		}
		return got
	}
	got := send("pii-1")
	if want := transform.HashPII([]byte(key), "buyer@example.com"); got["who"] != want || got["warehouse"] != "LOU1" {
		t.Fatalf("payload = %v, want who %s and warehouse LOU1", got, want)
	}
	if strings.Contains(fmt.Sprint(got), "example.com") {
		t.Fatalf("the email went out: %v", got)
	}
	// A new file (another size) is picked up by a later lookup.
	if err := os.WriteFile(skus, []byte("sku,warehouse\nIPOD-1,RENO2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for i := 2; ; i++ {
		if got = send(fmt.Sprint("pii-", i)); got["warehouse"] == "RENO2" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the edited table was not reloaded: %v", got)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if m := scrape(t, n); m[`hookyard_lookup_table_rows{table="skus"}`] != 1 || m[`hookyard_lookup_table_reload_failing{table="skus"}`] != 0 {
		t.Fatalf("table metrics = %v, %v", m[`hookyard_lookup_table_rows{table="skus"}`], m[`hookyard_lookup_table_reload_failing{table="skus"}`])
	}
	// A broken edit keeps the rows in use and shows in the metrics.
	if err := os.WriteFile(skus, []byte("sku,warehouse\nIPOD-1,A\nIPOD-1,B\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(20 * time.Second)
	for i := 100; ; i++ {
		got = send(fmt.Sprint("pii-", i))
		if got["warehouse"] != "RENO2" {
			t.Fatalf("a failed reload changed the rows in use: %v", got)
		}
		if scrape(t, n)[`hookyard_lookup_table_reload_failing{table="skus"}`] == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the failed reload does not show in hookyard_lookup_table_reload_failing")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestTransformsConfigErrors: a lookup table that does not load, and a
// transform that does not compile, stop the start with the key and line.
func TestTransformsConfigErrors(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "dup.csv"), []byte("sku,warehouse\nA,1\nA,2\n"), 0o600)
	base := "sources:\n  - {name: shop, provider: shopify, secrets: [s]}\ndestinations:\n  - {name: oms, type: file, path: out.jsonl}\n"
	tests := []struct{ name, yaml, want string }{
		{"duplicate key", base + "routes:\n  - {source: shop, destination: oms}\ntransforms:\n  lookup_tables:\n    - {name: skus, path: dup.csv}\n",
			`config line 9: transforms.lookup_tables[0].path: lookup table skus (` + filepath.Join(dir, "dup.csv") + `): line 3: duplicate key "A"`},
		{"missing file", base + "routes:\n  - {source: shop, destination: oms}\ntransforms:\n  lookup_tables:\n    - {name: skus, path: nope.json}\n",
			"config line 9: transforms.lookup_tables[0].path: lookup table skus: open "},
		{"bad transform", base + "routes:\n  - source: shop\n    destination: oms\n    transform: '{a: .b *}'\n",
			"config line 8: routes[0].transform: route shop->oms: transform: compile error in routes[0].transform:1:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "hookyard.yaml")
			os.WriteFile(path, []byte(tt.yaml), 0o600)
			cfg, err := loadConfig(path, func(string) string { return "" })
			if err != nil {
				t.Fatal(err)
			}
			_, err = buildRoutes(cfg, nil, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v\nwant it to contain %q", err, tt.want)
			}
		})
	}
}
