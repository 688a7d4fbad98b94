package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/api"
	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/store/sqlite"
	"github.com/hookyard/hookyard/internal/tracing"
	"github.com/hookyard/hookyard/internal/webhook"
)

const cliToken = "cli-operator-token-0123456789"

// adminAPI is a real SQLite store behind the real admin API, for driving
// the admin subcommands without a whole node.
type adminAPI struct {
	st  *sqlite.Store
	url string
	n   int
}

func newAdminAPI(t *testing.T) *adminAPI {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "hookyard.db"), sqlite.Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(api.Config{Store: st,
		Tokens: []config.Token{{Name: "cli", Token: cliToken, Role: "operator"}}}))
	t.Cleanup(func() {
		srv.Close()
		st.Close()
	})
	return &adminAPI{st: st, url: srv.URL}
}

// event stores an event routed to dests and returns its id.
func (a *adminAPI) event(t *testing.T, source string, body string, dests ...string) string {
	t.Helper()
	a.n++
	at := time.Now().Add(time.Duration(a.n-1000) * time.Millisecond)
	ev := &webhook.Event{ID: webhook.NewID("evt_", at), Source: source, Provider: "shopify", Topic: "orders/create",
		DedupKey: fmt.Sprintf("wh-%d", a.n), ReceivedAt: at,
		Headers: http.Header{"X-Shopify-Hmac-Sha256": {"c2VjcmV0LXNpZ25hdHVyZQ=="}, "X-Shopify-Topic": {"orders/create"}},
		Body:    []byte(body)}
	ds := make([]webhook.NewDelivery, len(dests))
	for i, d := range dests {
		ds[i] = webhook.NewDelivery{Destination: d, Route: source + "->" + d, MaxAttempts: 3}
	}
	if _, err := a.st.Ingest(context.Background(), ev, ds); err != nil {
		t.Fatal(err)
	}
	return ev.ID
}

// kill dead-letters every due delivery of dest.
func (a *adminAPI) kill(t *testing.T, dest string) []string {
	t.Helper()
	ctx := context.Background()
	cs, err := a.st.DeliveryClaim(ctx, store.ClaimParams{Destination: dest, Owner: "test", Limit: 10000,
		Lease: time.Minute, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range cs {
		if err := a.st.DeliveryDead(ctx, c.Delivery.ID, c.Delivery.LeaseToken, webhook.Attempt{Number: 1,
			StartedAt: time.Now(), StatusCode: 422, ErrorClass: webhook.ClassHTTP4xx, Error: "rejected"}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.Delivery.ID)
	}
	return ids
}

// cli runs the real program against a and returns stdout.
func (a *adminAPI) cli(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	getenv := func(k string) string {
		return map[string]string{"HOOKYARD_TOKEN": cliToken, "HOOKYARD_ADMIN_URL": a.url}[k]
	}
	err := run(context.Background(), args, getenv, strings.NewReader(""), &out, &errOut)
	if testing.Verbose() && errOut.Len() > 0 {
		t.Logf("stderr: %s", errOut.String())
	}
	return out.String(), err
}

func TestEventsCLI(t *testing.T) {
	a := newAdminAPI(t)
	shop := a.event(t, "shop", `{"id":42,"total":"9.99"}`, "oms")
	a.event(t, "stripe", `{"id":"pi_1"}`)

	out, err := a.cli(t, "events", "list", "--source", "shop")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "DEDUP KEY") || !strings.Contains(out, shop) || strings.Contains(out, "stripe") {
		t.Errorf("events list:\n%s", out)
	}

	out, err = a.cli(t, "events", "show", shop)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"id:", shop, "X-Shopify-Hmac-Sha256: ***", `"total": "9.99"`, "deliveries (1):", "oms", "pending",
		"trace id:", tracing.TraceID(shop)} {
		if !strings.Contains(out, want) {
			t.Errorf("events show lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "c2VjcmV0LXNpZ25hdHVyZQ==") {
		t.Errorf("events show prints the signature:\n%s", out)
	}

	out, err = a.cli(t, "events", "show", "--json", shop)
	if err != nil {
		t.Fatal(err)
	}
	var ev api.Event
	if err := json.Unmarshal([]byte(out), &ev); err != nil || ev.ID != shop || len(ev.Deliveries) != 1 || ev.TraceID != tracing.TraceID(shop) {
		t.Errorf("events show --json = %+v, %v:\n%s", ev, err, out)
	}

	if _, err := a.cli(t, "events", "show", "evt_nope"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("show unknown event: %v", err)
	}
	if _, err := a.cli(t, "events", "show"); err == nil {
		t.Error("show without id succeeded")
	}
	err = run(context.Background(), []string{"events", "list", "--url", a.url}, func(string) string { return "" },
		strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || err.Error() != "set HOOKYARD_TOKEN to an admin API token" {
		t.Errorf("without token: %v", err)
	}
}
