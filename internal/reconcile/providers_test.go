package reconcile_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/leader"
	"github.com/hookyard/hookyard/internal/reconcile"
	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"
)

func noSleep(sleeps *[]time.Duration) reconcile.Client {
	var mu sync.Mutex
	return reconcile.Client{Sleep: func(_ context.Context, d time.Duration) error {
		mu.Lock()
		*sleeps = append(*sleeps, d)
		mu.Unlock()
		return nil
	}}
}

// listAll pages through a lister.
func listAll(t *testing.T, l reconcile.Lister, since, until time.Time) []reconcile.Item {
	t.Helper()
	var out []reconcile.Item
	cursor := ""
	for range 100 {
		p, err := l.List(t.Context(), since, until, cursor)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p.Items...)
		if p.Next == "" {
			return out
		}
		cursor = p.Next
	}
	t.Fatal("listing did not end")
	return nil
}

func TestClientRetries(t *testing.T) {
	var mu sync.Mutex
	answers := []int{429, 502, 200}
	var dated bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		code := answers[0]
		answers = answers[1:]
		mu.Unlock()
		if code == 429 {
			if dated {
				w.Header().Set("Retry-After", time.Now().Add(90*time.Second).UTC().Format(http.TimeFormat))
			} else {
				w.Header().Set("Retry-After", "7")
			}
		}
		w.WriteHeader(code)
		fmt.Fprint(w, `{"ok":true}`)
	}))
	defer srv.Close()
	var sleeps []time.Duration
	c := noSleep(&sleeps)
	resp, err := c.Do(t.Context(), http.MethodGet, srv.URL+"/x?token=secret", nil, nil)
	if err != nil || string(resp.Body) != `{"ok":true}` {
		t.Fatalf("%v %v", resp, err)
	}
	if len(sleeps) != 2 || sleeps[0] != 7*time.Second || sleeps[1] != 2*time.Second {
		t.Fatalf("waits %v: want Retry-After 7s, then the doubled backoff 2s", sleeps)
	}

	// An HTTP-date Retry-After, then attempts run out.
	dated, answers, sleeps = true, []int{429, 500, 500}, nil
	c = noSleep(&sleeps)
	c.Attempts = 3
	_, err = c.Do(t.Context(), http.MethodGet, srv.URL+"/x?token=secret", nil, nil)
	if err == nil || !strings.Contains(err.Error(), "after 3 attempts") || !strings.Contains(err.Error(), "HTTP 500") {
		t.Fatalf("err %v", err)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Fatalf("error %q quotes the query string", err)
	}
	if len(sleeps) != 2 || sleeps[0] < 80*time.Second || sleeps[0] > 90*time.Second {
		t.Fatalf("waits %v: want about 90s from the HTTP-date Retry-After", sleeps)
	}

	// 4xx other than 408/429 is permanent.
	answers, sleeps = []int{404}, nil
	c = noSleep(&sleeps)
	if _, err := c.Do(t.Context(), http.MethodGet, srv.URL, nil, nil); err == nil || len(sleeps) != 0 {
		t.Fatalf("404: %v after %v", err, sleeps)
	}
}

// fakeGitHub serves a hook's deliveries like GitHub: newest first, 100 a
// page (per_page), Link rel="next" with an opaque cursor, the delivery
// detail with its request payload, and redelivery.
type fakeGitHub struct {
	deliveries  []map[string]any // newest first
	payloads    map[string]json.RawMessage
	mu          sync.Mutex
	redelivered []string
	pages       int
}

func (g *fakeGitHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer ghp_test" || r.Header.Get("X-GitHub-Api-Version") == "" {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"message":"Bad credentials"}`)
		return
	}
	const base = "/repos/acme/shop/hooks/42/deliveries"
	rest, ok := strings.CutPrefix(r.URL.Path, base)
	switch {
	case !ok:
		http.NotFound(w, r)
	case rest == "" && r.Method == http.MethodGet:
		g.mu.Lock()
		g.pages++
		g.mu.Unlock()
		per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
		start := 0
		if c := r.URL.Query().Get("cursor"); c != "" {
			start, _ = strconv.Atoi(strings.TrimPrefix(c, "v1_"))
		}
		end := min(start+per, len(g.deliveries))
		if end < len(g.deliveries) {
			w.Header().Set("Link", fmt.Sprintf(`<http://%s%s?per_page=%d&cursor=v1_%d>; rel="next"`, r.Host, base, per, end))
		}
		json.NewEncoder(w).Encode(g.deliveries[start:end])
	case r.Method == http.MethodGet:
		id := strings.TrimPrefix(rest, "/")
		for _, d := range g.deliveries {
			if fmt.Sprint(d["id"]) == id {
				out := map[string]any{}
				for k, v := range d {
					out[k] = v
				}
				out["request"] = map[string]any{
					"headers": map[string]string{"X-GitHub-Event": d["event"].(string), "X-GitHub-Delivery": d["guid"].(string),
						"X-Hub-Signature-256": "sha256=abc", "User-Agent": "GitHub-Hookshot/abc"},
					"payload": g.payloads[d["guid"].(string)],
				}
				json.NewEncoder(w).Encode(out)
				return
			}
		}
		http.NotFound(w, r)
	case r.Method == http.MethodPost && strings.HasSuffix(rest, "/attempts"):
		g.mu.Lock()
		g.redelivered = append(g.redelivered, strings.TrimSuffix(strings.TrimPrefix(rest, "/"), "/attempts"))
		g.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprint(w, `{}`)
	default:
		http.NotFound(w, r)
	}
}

func newFakeGitHub(n int, since time.Time) *fakeGitHub {
	g := &fakeGitHub{payloads: map[string]json.RawMessage{}}
	for i := n - 1; i >= 0; i-- { // newest first
		guid := fmt.Sprintf("0b9e3a70-%04d-11ef-8b1a-6f3d0c1e2a%02d", i, i%100)
		g.deliveries = append(g.deliveries, map[string]any{
			"id": 1000 + i, "guid": guid, "delivered_at": since.Add(time.Duration(i) * time.Minute).Format(time.RFC3339),
			"redelivery": false, "duration": 0.27, "status": "OK", "status_code": 202, "event": "push", "action": nil,
			"installation_id": nil, "repository_id": 123, "throttled_at": nil,
		})
		g.payloads[guid] = json.RawMessage(fmt.Sprintf(`{"ref":"refs/heads/main","after":"%040d","repository":{"id":123,"full_name":"acme/shop"}}`, i))
	}
	return g
}

func TestGitHubBackfillAndRedeliver(t *testing.T) {
	since := t0.Add(-3 * time.Hour)
	fake := newFakeGitHub(250, since.Add(-30*time.Minute)) // the first 30 are older than the window
	srv := httptest.NewServer(fake)
	defer srv.Close()
	var sleeps []time.Duration
	gh := reconcile.NewGitHub(srv.URL, "ghp_test", "acme/shop", "", 42, noSleep(&sleeps))
	items := listAll(t, gh, since, t0)
	// Deliveries at since-30m … since+219m; the window [since, since+3h) holds 180.
	if len(items) != 180 {
		t.Fatalf("%d items in the window, want 180", len(items))
	}
	if fake.pages != 3 {
		t.Fatalf("%d pages fetched, want 3 (stop at the first page reaching older deliveries)", fake.pages)
	}

	st := openStore(t)
	// Received: every delivery but three.
	missing := map[string]bool{items[0].Key: true, items[77].Key: true, items[179].Key: true}
	for _, it := range items {
		if missing[it.Key] {
			continue
		}
		ev := &webhook.Event{ID: webhook.NewID("evt_", t0), Source: "gh", Provider: "github", Topic: "push",
			DedupKey: it.Key, ReceivedAt: t0, Body: []byte(`{}`)}
		if _, err := st.Ingest(t.Context(), ev, nil); err != nil {
			t.Fatal(err)
		}
	}
	src := reconcile.Source{Name: "gh", Provider: "github", Lister: gh, Backfill: true}
	r := reconcile.New(reconcile.Config{Sources: []reconcile.Source{src}, Store: st, Router: oneRoute{},
		Locker: leader.NewLocal(), Now: func() time.Time { return t0 }})
	run, err := r.Run(t.Context(), "gh", since, t0, reconcile.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	if run.State != store.RunDone || run.Listed != 180 || run.Missing != 3 || run.Backfilled != 3 {
		t.Fatalf("run %+v", run)
	}
	evs, _, _ := st.EventList(t.Context(), store.EventFilter{Source: "gh", DedupKey: items[77].Key})
	ev, err := st.EventGet(t.Context(), evs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Topic != "push" || ev.Headers.Get("X-GitHub-Delivery") != items[77].Key || ev.Headers.Get("X-Hub-Signature-256") != "" ||
		string(ev.Body) != string(fake.payloads[items[77].Key]) || ev.Headers.Get("Hookyard-Origin") != "reconcile" {
		t.Fatalf("backfilled %+v", ev)
	}

	// Redeliver mode asks GitHub instead of storing anything.
	st2 := openStore(t)
	src.Redeliver, src.Backfill = true, false // redeliver acts on its own
	r2 := reconcile.New(reconcile.Config{Sources: []reconcile.Source{src}, Store: st2, Router: oneRoute{},
		Locker: leader.NewLocal(), Now: func() time.Time { return t0 }})
	run, err = r2.Run(t.Context(), "gh", since.Add(170*time.Minute), t0, reconcile.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	if run.Missing != 10 || run.Backfilled != 10 || len(fake.redelivered) != 10 {
		t.Fatalf("redeliver run %+v, redelivered %v", run, fake.redelivered)
	}
	if got, _ := st2.EventKeysStored(t.Context(), "gh", []string{items[179].Key}); len(got) != 0 {
		t.Fatal("redeliver mode stored a synthetic event")
	}
}

func TestShopifyLinkPaginationPacingAndBodyMatch(t *testing.T) {
	const n = 300
	var mu sync.Mutex
	calls := 0
	var queries []string
	order := func(i int) map[string]any {
		created := t0.Add(-2 * time.Hour).Add(time.Duration(i) * time.Second)
		updated := created
		if i%2 == 1 {
			updated = created.Add(time.Minute)
		}
		return map[string]any{"id": 450789000 + i, "admin_graphql_api_id": fmt.Sprintf("gid://shopify/Order/%d", 450789000+i),
			"created_at":  created.In(time.FixedZone("EST", -5*3600)).Format(time.RFC3339),
			"updated_at":  updated.In(time.FixedZone("EST", -5*3600)).Format(time.RFC3339),
			"total_price": "10.00", "currency": "USD", "financial_status": "paid"}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Shopify-Access-Token") != "shpat_test" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}`)
			return
		}
		if r.URL.Path != "/admin/api/2025-01/orders.json" {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		mu.Lock()
		calls++
		used := 36 + calls // the bucket fills: 37/40, 38/40
		queries = append(queries, r.URL.RawQuery)
		mu.Unlock()
		if q.Get("page_info") != "" && (q.Get("updated_at_min") != "" || q.Get("status") != "") {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"errors":{"page_info":["page_info cannot be combined with other filters"]}}`)
			return
		}
		start, _ := strconv.Atoi(q.Get("page_info"))
		limit, _ := strconv.Atoi(q.Get("limit"))
		end := min(start+limit, n)
		var page []map[string]any
		for i := start; i < end; i++ {
			page = append(page, order(i))
		}
		if end < n {
			w.Header().Set("Link", fmt.Sprintf(`<https://shop.myshopify.com/admin/api/2025-01/orders.json?limit=%d&page_info=%d>; rel="next"`, limit, end))
		}
		w.Header().Set("X-Shopify-Shop-Api-Call-Limit", fmt.Sprintf("%d/40", used))
		json.NewEncoder(w).Encode(map[string]any{"orders": page})
	}))
	defer srv.Close()
	var sleeps []time.Duration
	sh := reconcile.NewShopify(srv.URL, "shpat_test", "", nil, noSleep(&sleeps))

	st := openStore(t)
	// Received as webhooks (per-delivery X-Shopify-Webhook-Id keys): all but
	// orders 5 and 200.
	for i := range n {
		if i == 5 || i == 200 {
			continue
		}
		body, _ := json.Marshal(order(i))
		topic := "orders/create"
		if i%2 == 1 {
			topic = "orders/updated"
		}
		ev := &webhook.Event{ID: webhook.NewID("evt_", t0), Source: "shop", Provider: "shopify", Topic: topic,
			DedupKey: fmt.Sprintf("b54557e4-bdd9-4b37-8a5f-bf7d70b%05d", i), ReceivedAt: t0.Add(-time.Hour), Body: body}
		if _, err := st.Ingest(t.Context(), ev, nil); err != nil {
			t.Fatal(err)
		}
	}
	src := reconcile.Source{Name: "shop", Provider: "shopify", Lister: sh, Backfill: true}
	r := reconcile.New(reconcile.Config{Sources: []reconcile.Source{src}, Store: st, Router: oneRoute{},
		Locker: leader.NewLocal(), Now: func() time.Time { return t0 }})
	run, err := r.Run(t.Context(), "shop", t0.Add(-3*time.Hour), t0, reconcile.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	if run.State != store.RunDone || run.Listed != n || run.Missing != 2 || run.Backfilled != 2 {
		t.Fatalf("run %+v", run)
	}
	if len(queries) != 2 || !strings.Contains(queries[0], "updated_at_min=") || !strings.Contains(queries[0], "status=any") ||
		!strings.Contains(queries[1], "page_info=250") {
		t.Fatalf("queries %q", queries)
	}
	// 37/40 leaves 3 calls: wait 0.5s; 38/40: 1s.
	if len(sleeps) != 2 || sleeps[0] != 500*time.Millisecond || sleeps[1] != time.Second {
		t.Fatalf("pacing waits %v", sleeps)
	}
	updated, _ := time.Parse(time.RFC3339, order(200)["updated_at"].(string))
	evs, _, err := st.EventList(t.Context(), store.EventFilter{Source: "shop",
		DedupKey: "reconcile:orders/450789200@" + strconv.FormatInt(updated.Unix(), 10)})
	if err != nil || len(evs) != 1 || evs[0].Topic != "orders/create" {
		t.Fatalf("order 200 (never updated) backfilled as %+v (%v), want one orders/create", evs, err)
	}
	again, err := r.Run(t.Context(), "shop", t0.Add(-3*time.Hour), t0, reconcile.TriggerManual)
	if err != nil || again.Missing != 0 || again.Matched != n {
		t.Fatalf("second run %+v %v", again, err)
	}
}

func TestWooCommercePagesAndKeys(t *testing.T) {
	const n = 230
	order := func(i int) map[string]any {
		created := t0.Add(-time.Hour).Add(time.Duration(i) * time.Second)
		modified := created
		if i%3 == 0 {
			modified = created.Add(10 * time.Second)
		}
		return map[string]any{"id": 700 + i, "number": strconv.Itoa(700 + i), "status": "processing", "currency": "USD",
			"date_created_gmt": created.Format("2006-01-02T15:04:05"), "date_modified_gmt": modified.Format("2006-01-02T15:04:05"),
			"total": "29.35"}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "ck_test" || p != "cs_test" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"code":"woocommerce_rest_cannot_view","message":"Sorry, you cannot list resources.","data":{"status":401}}`)
			return
		}
		q := r.URL.Query()
		if r.URL.Path != "/wp-json/wc/v3/orders" || q.Get("modified_after") == "" || q.Get("dates_are_gmt") != "true" {
			http.NotFound(w, r)
			return
		}
		page, _ := strconv.Atoi(q.Get("page"))
		per, _ := strconv.Atoi(q.Get("per_page"))
		var out []map[string]any
		for i := (page - 1) * per; i < min(page*per, n); i++ {
			out = append(out, order(i))
		}
		w.Header().Set("X-WP-Total", strconv.Itoa(n))
		w.Header().Set("X-WP-TotalPages", strconv.Itoa((n+per-1)/per))
		json.NewEncoder(w).Encode(out)
	}))
	defer srv.Close()
	var sleeps []time.Duration
	wc := reconcile.NewWooCommerce(srv.URL, "ck_test:cs_test", noSleep(&sleeps))
	items := listAll(t, wc, t0.Add(-2*time.Hour), t0)
	if len(items) != n {
		t.Fatalf("%d items, want %d", len(items), n)
	}
	o3 := order(3)
	if want := "order.updated/703@" + o3["date_modified_gmt"].(string); items[3].Key != want || items[3].Topic != "order.updated" {
		t.Fatalf("item 3 key %q topic %q, want %q", items[3].Key, items[3].Topic, want)
	}
	if !strings.HasPrefix(items[4].Key, "order.created/704@") || items[4].AltKeys[0] != "order.updated/704@"+order(4)["date_modified_gmt"].(string) {
		t.Fatalf("item 4 %+v", items[4])
	}
	if items[4].Header.Get("X-Wc-Webhook-Topic") != "order.created" {
		t.Fatalf("item 4 headers %v", items[4].Header)
	}
}

func TestGenericCursorAndPage(t *testing.T) {
	const n = 45
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") != "k" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		q := r.URL.Query()
		if q.Get("from") == "" || q.Get("to") == "" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		start := 0
		switch r.URL.Path {
		case "/cursor":
			if c := q.Get("after"); c != "" {
				start, _ = strconv.Atoi(strings.TrimPrefix(c, "c"))
			}
		case "/page":
			p, _ := strconv.Atoi(q.Get("page"))
			start = (p - 1) * 20
		}
		var items []map[string]any
		for i := start; i < min(start+20, n); i++ {
			items = append(items, map[string]any{"event_id": 9000 + i, "kind": "invoice.paid", "amount": i})
		}
		next := any(nil)
		if start+20 < n {
			next = fmt.Sprintf("c%d", start+20)
		}
		json.NewEncoder(w).Encode(map[string]any{"result": map[string]any{"items": items}, "next_cursor": next})
	}))
	defer srv.Close()
	var sleeps []time.Duration
	for _, tc := range []struct{ name, url, next string }{
		{"cursor", srv.URL + "/cursor?from={since}&to={until_unix}&after={cursor}", ".next_cursor"},
		{"page", srv.URL + "/page?from={since}&to={until}&page={page}", ""},
	} {
		g, err := reconcile.NewGeneric(reconcile.GenericSpec{URL: tc.url, Items: ".result.items[]?", ID: ".event_id",
			Topic: ".kind", Next: tc.next, Token: "k", Header: "X-Api-Key"}, noSleep(&sleeps))
		if err != nil {
			t.Fatal(err)
		}
		items := listAll(t, g, t0.Add(-time.Hour), t0)
		if len(items) != n {
			t.Fatalf("%s: %d items, want %d", tc.name, len(items), n)
		}
		if items[44].Key != "9044" || items[44].Topic != "invoice.paid" || string(items[44].Body) != `{"amount":44,"event_id":9044,"kind":"invoice.paid"}` {
			t.Fatalf("%s: item %+v body %s", tc.name, items[44], items[44].Body)
		}
	}
	if _, err := reconcile.NewGeneric(reconcile.GenericSpec{URL: srv.URL, Items: ".x["}, reconcile.Client{}); err == nil {
		t.Fatal("bad jq accepted")
	}
}
