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

func decodeOutput(t *testing.T, raw json.RawMessage) map[string]any {
	t.Helper()
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("output %s: %v", raw, err)
	}
	return out
}
