package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/api"
	"github.com/hookyard/hookyard/internal/route"
	"github.com/hookyard/hookyard/internal/transform"
	"github.com/hookyard/hookyard/internal/webhook"
)

func compile(t *testing.T, src string) *transform.Program {
	t.Helper()
	p, err := transform.Compile(src, transform.Options{Name: src})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRoutePreview(t *testing.T) {
	var table *route.Table
	f := setupWith(t, func(c *api.Config) {
		table = route.New([]*route.Route{
			{Name: "big-orders", Source: "shop", Destination: "oms", Version: "v1",
				Filter:    compile(t, `.body.total > 100`),
				Transform: compile(t, `{order: .body.id, email: .body.customer.email}`)},
			{Name: "all", Source: "shop", Destination: "crm", Version: "v2"},
		}, nil, nil)
		c.Routes = table
		c.PIIPaths = []string{"customer.email"}
	})
	ctx := context.Background()
	evID, _ := f.ingest(t, "shop", "orders/create", []byte(`{"id":9,"total":250,"customer":{"email":"bo@example.com"}}`), "oms")

	l, err := f.client(viewerToken).Routes(ctx)
	if err != nil || len(l.Routes) != 2 || l.Routes[0].Name != "all" || !l.Routes[1].Filter || !l.Routes[1].Transform ||
		l.Routes[1].Priority {
		t.Fatalf("routes = %+v, %v", l, err)
	}

	// A pasted body: any role.
	st, err := f.client(viewerToken).PreviewRoute(ctx, "big-orders", api.PreviewRequest{Body: []byte(`{"id":1,"total":5}`), Topic: "orders/create"})
	if err != nil || st.Matched || st.Route != "big-orders" {
		t.Fatalf("pasted small order = %+v, %v", st, err)
	}
	st, err = f.client(viewerToken).PreviewRoute(ctx, "big-orders", api.PreviewRequest{Body: []byte(`{"id":2,"total":500,"customer":{"email":"me@x"}}`)})
	if err != nil || !st.Matched || st.Version != "v1" {
		t.Fatalf("pasted big order = %+v, %v", st, err)
	}
	if out := decodeOutput(t, st.Output); out["order"] != float64(2) || out["email"] != "me@x" {
		t.Errorf("output = %s", st.Output)
	}

	// A stored event shows its body unmasked: admin only, and audited.
	if _, err := f.client(operatorToken).PreviewRoute(ctx, "big-orders", api.PreviewRequest{EventID: evID}); !errors.Is(err, webhook.ErrForbidden) {
		t.Fatalf("operator previewing a stored event: %v, want 403", err)
	}
	st, err = f.client(adminToken).PreviewRoute(ctx, "big-orders", api.PreviewRequest{EventID: evID})
	if err != nil || !st.Matched {
		t.Fatalf("admin preview of stored event = %+v, %v", st, err)
	}
	if out := decodeOutput(t, st.Output); out["email"] != "bo@example.com" {
		t.Errorf("output = %s", st.Output)
	}
	es := f.auditEntries(t)
	if len(es) != 1 || es[0].Action != "POST /api/v1/routes/{name}/preview" || es[0].Target != evID ||
		!strings.Contains(es[0].Detail, "big-orders") {
		t.Fatalf("audit = %+v; want only the admin's stored-event preview", es)
	}

	for _, tc := range []struct {
		path, body string
		status     int
	}{
		{"/api/v1/routes/nope/preview", `{"body":{}}`, 404},
		{"/api/v1/routes/big-orders/preview", `{}`, 400},
		{"/api/v1/routes/big-orders/preview", `{"event_id":"x","body":{}}`, 400},
		{"/api/v1/routes/big-orders/preview", `{"event_id":"evt_nope"}`, 404},
		{"/api/v1/routes/big-orders/preview", `{"body":not json}`, 400},
	} {
		if status, _, body := f.do(t, "POST", tc.path, adminToken, tc.body); status != tc.status {
			t.Errorf("POST %s %s = %d %s, want %d", tc.path, tc.body, status, body, tc.status)
		}
	}
}

func TestDestinations(t *testing.T) {
	f := setupWith(t, func(c *api.Config) { c.Destinations = []string{"oms", "idle", "crm"} })
	f.seed(t) // oms: 2 pending, due since 11:00:01 and 11:00:02; crm: 2 dead
	l, err := f.client(viewerToken).Destinations(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []api.DestinationStatus{
		{Name: "crm", Dead: 2, Status: "active", Breaker: "closed"},
		{Name: "idle", Status: "active", Breaker: "closed"},
		{Name: "oms", Due: 2, OldestDue: t0.Add(-time.Hour + time.Second), OldestDueAgeSeconds: 3599, Status: "active", Breaker: "closed"},
	}
	if fmt.Sprint(l.Destinations) != fmt.Sprint(want) {
		t.Fatalf("destinations:\n got %+v\nwant %+v", l.Destinations, want)
	}
}

// TestRouteShadow: the shadow comparison the worker makes is served with
// its counts and first differences; below admin, while PII paths are set,
// the values are withheld.
func TestRouteShadow(t *testing.T) {
	var table *route.Table
	f := setupWith(t, func(c *api.Config) {
		table = route.New([]*route.Route{
			{Name: "oms", Source: "shop", Destination: "oms",
				Transform: compile(t, `{id: .body.id, email: .body.email, total: .body.total}`),
				Shadow:    compile(t, `{id: .body.id, email: .body.email, total: (.body.total | tonumber)}`)},
			{Name: "plain", Source: "shop", Destination: "crm", Transform: compile(t, `.body`)},
		}, nil, nil)
		c.Routes = table
		c.PIIPaths = []string{"email"}
	})
	ctx := context.Background()
	for i, total := range []string{`"5"`, `7`, `"x"`} {
		ev := &webhook.Event{ID: fmt.Sprint("evt_", i), Source: "shop", Body: fmt.Appendf(nil, `{"id":%d,"email":"a@b.c","total":%s}`, i, total)}
		if _, err := table.Payload(ctx, &webhook.Delivery{Route: "oms"}, ev); err != nil {
			t.Fatal(err)
		}
	}
	// Event 0: "5" vs 5 differ; event 1: 7 vs 7 agree; event 2: the shadow fails.
	rep, err := f.client(adminToken).Shadow(ctx, "oms")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Compared != 3 || rep.Differing != 2 || len(rep.Diffs) != 2 || rep.KeptMax != route.ShadowKept || rep.ValuesWithheld {
		t.Fatalf("report = %+v", rep)
	}
	d0, d2 := rep.Diffs[0], rep.Diffs[1]
	if d0.EventID != "evt_0" || len(d0.Changes) != 1 || d0.Changes[0].Path != ".total" || d0.Changes[0].Kind != "changed" ||
		d0.Changes[0].Old != "5" || d0.Changes[0].New != float64(5) {
		t.Errorf("first diff = %+v", d0)
	}
	if d2.EventID != "evt_2" || d2.Changes[0].Kind != "error" || !strings.Contains(fmt.Sprint(d2.Changes[0].New), "tonumber") {
		t.Errorf("failing shadow = %+v", d2)
	}
	if es := f.auditEntries(t); len(es) != 1 || es[0].Action != "GET /api/v1/routes/{name}/shadow" || es[0].Target != "oms" {
		t.Errorf("audit = %+v; want the admin's unmasked read", es)
	}

	rep, err = f.client(viewerToken).Shadow(ctx, "oms")
	if err != nil {
		t.Fatal(err)
	}
	if !rep.ValuesWithheld || rep.Differing != 2 || rep.Diffs[0].Changes[0].Path != ".total" ||
		rep.Diffs[0].Changes[0].Old != nil || rep.Diffs[0].Changes[0].New != nil || rep.Diffs[1].Changes[0].New != nil {
		t.Errorf("viewer report = %+v", rep)
	}
	for _, tc := range []struct {
		path   string
		status int
	}{
		{"/api/v1/routes/plain/shadow", 404},
		{"/api/v1/routes/nope/shadow", 404},
		{"/api/v1/routes/oms/shadow?x=1", 400},
	} {
		if status, _, body := f.do(t, "GET", tc.path, viewerToken, ""); status != tc.status {
			t.Errorf("GET %s = %d %s, want %d", tc.path, status, body, tc.status)
		}
	}
}

func decodeOutput(t *testing.T, raw json.RawMessage) map[string]any {
	t.Helper()
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("output %s: %v", raw, err)
	}
	return out
}
