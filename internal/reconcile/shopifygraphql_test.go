package reconcile_test

import (
	"encoding/json"
	"fmt"
	"io"
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

// fakeShopifyGraphQL serves the GraphQL Admin API's orders connection with
// Shopify's cost extension: a 1000-point bucket restoring 50 a second;
// each query requests 252 points (100 nodes) and costs 102. One query is
// answered THROTTLED. REST serves orders/{id}.json.
type fakeShopifyGraphQL struct {
	mu        sync.Mutex
	available float64
	queries   int
	throttled bool
	fetched   []string
	orders    []map[string]any
}

func (f *fakeShopifyGraphQL) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Shopify-Access-Token") != "shpat_gql" {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/admin/api/2025-01/orders/") {
		id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/admin/api/2025-01/orders/"), ".json")
		f.fetched = append(f.fetched, id)
		for _, o := range f.orders {
			if fmt.Sprint(o["id"]) == id {
				json.NewEncoder(w).Encode(map[string]any{"order": o})
				return
			}
		}
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/admin/api/2025-01/graphql.json" {
		http.NotFound(w, r)
		return
	}
	var req struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables"`
	}
	b, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(b, &req); err != nil || !strings.Contains(req.Query, "orders(first: 100") ||
		!strings.Contains(fmt.Sprint(req.Variables["q"]), "updated_at:>=") {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	f.queries++
	cost := func(actual any) map[string]any {
		return map[string]any{"cost": map[string]any{"requestedQueryCost": 252, "actualQueryCost": actual,
			"throttleStatus": map[string]any{"maximumAvailable": 1000, "currentlyAvailable": f.available, "restoreRate": 50}}}
	}
	if f.queries == 2 && !f.throttled { // the second query is throttled once
		f.throttled = true
		f.available = 100
		json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{"message": "Throttled",
			"extensions": map[string]any{"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}},
			"extensions": cost(nil)})
		return
	}
	start := 0
	if a, ok := req.Variables["after"].(string); ok {
		start, _ = strconv.Atoi(strings.TrimPrefix(a, "eyJsYXN0X2lkIjo"))
	}
	end := min(start+100, len(f.orders))
	var nodes []map[string]any
	for _, o := range f.orders[start:end] {
		nodes = append(nodes, map[string]any{"legacyResourceId": fmt.Sprint(o["id"]), "createdAt": o["created_at"], "updatedAt": o["updated_at"]})
	}
	f.available -= 102
	json.NewEncoder(w).Encode(map[string]any{
		"data": map[string]any{"orders": map[string]any{"nodes": nodes,
			"pageInfo": map[string]any{"hasNextPage": end < len(f.orders), "endCursor": fmt.Sprintf("eyJsYXN0X2lkIjo%d", end)}}},
		"extensions": cost(102)})
}

func TestShopifyGraphQLCostThrottle(t *testing.T) {
	fake := &fakeShopifyGraphQL{available: 300}
	for i := range 250 {
		at := t0.Add(-time.Hour).Add(time.Duration(i) * time.Second).Format(time.RFC3339)
		fake.orders = append(fake.orders, map[string]any{"id": 5500000 + i, "created_at": at, "updated_at": at,
			"total_price": "5.00", "admin_graphql_api_id": fmt.Sprintf("gid://shopify/Order/%d", 5500000+i)})
	}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	var sleeps []time.Duration
	l := reconcile.NewShopifyGraphQL(srv.URL, "shpat_gql", "", nil, noSleep(&sleeps))

	st := openStore(t)
	for i, o := range fake.orders {
		if i == 42 || i == 242 {
			continue
		}
		body, _ := json.Marshal(o)
		ev := &webhook.Event{ID: webhook.NewID("evt_", t0), Source: "shop", Provider: "shopify", Topic: "orders/create",
			DedupKey: fmt.Sprintf("webhook-%d", i), ReceivedAt: t0.Add(-time.Minute), Body: body}
		if _, err := st.Ingest(t.Context(), ev, nil); err != nil {
			t.Fatal(err)
		}
	}
	r := reconcile.New(reconcile.Config{Store: st, Router: oneRoute{}, Locker: leader.NewLocal(), Now: func() time.Time { return t0 },
		Sources: []reconcile.Source{{Name: "shop", Provider: "shopify", Lister: l, Backfill: true}}})
	run, err := r.Run(t.Context(), "shop", t0.Add(-2*time.Hour), t0, reconcile.TriggerManual)
	if err != nil {
		t.Fatal(err)
	}
	if run.State != store.RunDone || run.Listed != 250 || run.Missing != 2 || run.Backfilled != 2 {
		t.Fatalf("run %+v", run)
	}
	// Query 1 leaves 198 points (< 252): wait (252-198)/50 = 1.08s. Query 2
	// is THROTTLED at 100 available: wait 3.04s and retry, which leaves -2:
	// wait 5.08s before query 3.
	want := []time.Duration{1080 * time.Millisecond, 3040 * time.Millisecond, 5080 * time.Millisecond}
	if fmt.Sprint(sleeps) != fmt.Sprint(want) {
		t.Fatalf("waits %v, want %v", sleeps, want)
	}
	if fake.queries != 4 || fmt.Sprint(fake.fetched) != "[5500042 5500242]" {
		t.Fatalf("%d queries, fetched %v", fake.queries, fake.fetched)
	}
	evs, _, _ := st.EventList(t.Context(), store.EventFilter{Source: "shop", DedupKey: "reconcile:orders/5500042@" +
		strconv.FormatInt(t0.Add(-time.Hour).Add(42*time.Second).Unix(), 10)})
	if len(evs) != 1 || evs[0].Topic != "orders/create" {
		t.Fatalf("backfilled %+v", evs)
	}
	full, _ := st.EventGet(t.Context(), evs[0].ID)
	var o map[string]any
	if json.Unmarshal(full.Body, &o) != nil || o["id"] != float64(5500042) || o["total_price"] != "5.00" {
		t.Fatalf("body %s: want the REST order", full.Body)
	}
}
