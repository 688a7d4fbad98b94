package api_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/hookyard/hookyard/internal/api"
	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/store/sqlite"
	"github.com/hookyard/hookyard/internal/tracing"
	"github.com/hookyard/hookyard/internal/webhook"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	adminToken    = "admin-token-0123456789abcdef"
	operatorToken = "operator-token-0123456789abcdef"
	viewerToken   = "viewer-token-0123456789abcdef"
	badToken      = "wrong-token-0123456789abcdef"

	// Values that must never appear in an answer's headers or in the log.
	shopifySig = "c2hvcGlmeS1zaWduYXR1cmUtdmFsdWU="
	stripeSig  = "t=1700000000,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd"
	githubSig  = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	bodyMarker = "BODY-MARKER-never-logged"
)

var t0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// fixture is a real SQLite store behind the real admin API on an httptest
// server, with a fixed clock.
type fixture struct {
	store  *sqlite.Store
	dbPath string
	srv    *httptest.Server
	logs   *syncBuffer

	mu  sync.Mutex
	seq int
	now time.Time // the clock; t0 unless a test advances it
}

// advance moves the fixture's clock forward.
func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

// syncBuffer collects log output written from handler goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func setup(t testing.TB) *fixture { return setupWith(t, nil) }

// setupWith is setup with the API's config adjusted by opt.
func setupWith(t testing.TB, opt func(*api.Config)) *fixture {
	t.Helper()
	f := &fixture{dbPath: filepath.Join(t.TempDir(), "hookyard.db"), logs: &syncBuffer{}, now: t0}
	now := func() time.Time {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.now
	}
	st, err := sqlite.Open(context.Background(), f.dbPath, sqlite.Config{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	f.store = st
	logger := slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := api.Config{
		Store: st,
		Tokens: []config.Token{
			{Name: "root", Token: adminToken, Role: "admin"},
			{Name: "oncall", Token: operatorToken, Role: "operator"},
			{Name: "dash", Token: viewerToken, Role: "viewer"},
		},
		Logger:       logger,
		Now:          now,
		Alerts:       alertState{},
		Destinations: []string{"oms", "crm", "erp"},
		DestinationControls: api.DestinationControls{Controls: st,
			Breaker: func(string) string { return "closed" }},
	}
	if opt != nil {
		opt(&cfg)
	}
	f.srv = httptest.NewServer(api.New(cfg))
	t.Cleanup(func() {
		f.srv.Close()
		st.Close()
	})
	return f
}

func (f *fixture) client(token string) *api.Client {
	return &api.Client{BaseURL: f.srv.URL, Token: token, HTTP: f.srv.Client()}
}

// ingest stores an event with signature headers and one delivery per
// destination, and returns the event id and the delivery ids.
func (f *fixture) ingest(t *testing.T, source, topic string, body []byte, dests ...string) (string, []string) {
	t.Helper()
	f.mu.Lock()
	f.seq++
	at := t0.Add(-time.Hour).Add(time.Duration(f.seq) * time.Second)
	f.mu.Unlock()
	ev := &webhook.Event{
		ID: webhook.NewID("evt_", at), Source: source, Provider: source, Topic: topic,
		DedupKey: fmt.Sprintf("key-%d", at.UnixNano()), ReceivedAt: at,
		Headers: http.Header{
			"Content-Type":          {"application/json"},
			"X-Shopify-Topic":       {topic},
			"X-Shopify-Hmac-Sha256": {shopifySig},
			"Stripe-Signature":      {stripeSig},
			"X-Hub-Signature-256":   {githubSig},
			"Webhook-Signature":     {"v1," + shopifySig},
		},
		Body: body,
	}
	nds := make([]webhook.NewDelivery, len(dests))
	for i, d := range dests {
		nds[i] = webhook.NewDelivery{Destination: d, Route: source + "->" + d, Priority: webhook.PriorityNormal,
			MaxAttempts: 5}
	}
	ctx := context.Background()
	if _, err := f.store.Ingest(ctx, ev, nds); err != nil {
		t.Fatal(err)
	}
	ds, _, err := f.store.DeliveryList(ctx, store.DeliveryFilter{EventID: ev.ID})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(ds))
	for i, d := range ds {
		ids[i] = d.ID
	}
	return ev.ID, ids
}

// kill dead-letters every due delivery of dest after one failed attempt,
// concurrently so the store's group commit batches the writes.
func (f *fixture) kill(t *testing.T, dest string) []string {
	t.Helper()
	return f.killAnswering(t, dest, []byte(`{"error":"bad order"}`))
}

// killAnswering is kill with the destination's answer recorded as answer.
func (f *fixture) killAnswering(t *testing.T, dest string, answer []byte) []string {
	t.Helper()
	ctx := context.Background()
	cs, err := f.store.DeliveryClaim(ctx, store.ClaimParams{Destination: dest, Owner: "test", Limit: 100000,
		Lease: time.Minute, Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(cs))
	errs := make(chan error, len(cs))
	var wg sync.WaitGroup
	for i, c := range cs {
		ids[i] = c.Delivery.ID
		wg.Go(func() {
			errs <- f.store.DeliveryDead(ctx, c.Delivery.ID, c.Delivery.LeaseToken, webhook.Attempt{
				Number: 1, StartedAt: t0, Duration: 12 * time.Millisecond, StatusCode: 400,
				ErrorClass: webhook.ClassHTTP4xx, Error: "destination answered 400",
				ResponseBody: answer})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

// do sends one request with token ("" for none) and returns status, headers
// and body.
func (f *fixture) do(t *testing.T, method, path, token, body string) (int, http.Header, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

// seed is the data most scenarios read.
type seed struct {
	shop, stripe, woo, bin string // event ids
	shopOMS, stripeOMS     string // pending
	wooCRM, binCRM         string // dead
}

func (f *fixture) seed(t *testing.T) seed {
	t.Helper()
	var s seed
	var ids []string
	s.shop, ids = f.ingest(t, "shop", "orders/create", []byte(`{"id": 1, "note": "`+bodyMarker+`"}`), "oms")
	s.shopOMS = ids[0]
	s.stripe, ids = f.ingest(t, "stripe", "payment_intent.succeeded", []byte(`{"id":"pi_1"}`), "oms")
	s.stripeOMS = ids[0]
	s.woo, ids = f.ingest(t, "woo", "order.created", []byte("a=1&b=2"), "crm")
	s.wooCRM = ids[0]
	s.bin, ids = f.ingest(t, "bin", "blob", []byte{0xff, 0xfe, 0x00, 0x01}, "crm")
	s.binCRM = ids[0]
	f.kill(t, "crm")
	return s
}

// roleCase is one request of the route × identity matrix.
type roleCase struct {
	name   string
	method string
	path   func(t *testing.T, f *fixture, s seed) string
	body   string
	write  bool // needs operator
	admin  bool // needs admin
	ok     int  // status for an allowed caller
}

func fixed(p string) func(*testing.T, *fixture, seed) string {
	return func(*testing.T, *fixture, seed) string { return p }
}

// freshDead returns a new dead delivery, so each replay in the matrix has
// something to replay.
func freshDead(t *testing.T, f *fixture) string {
	f.mu.Lock()
	dest := fmt.Sprintf("dead-%d", f.seq)
	f.mu.Unlock()
	_, ids := f.ingest(t, "shop", "orders/create", []byte(`{}`), dest)
	f.kill(t, dest)
	return ids[0]
}

func TestRoutesByRole(t *testing.T) {
	f := setup(t)
	s := f.seed(t)
	cases := []roleCase{
		{"whoami", "GET", fixed("/api/v1/whoami"), "", false, false, 200},
		{"events", "GET", fixed("/api/v1/events"), "", false, false, 200},
		{"event", "GET", func(_ *testing.T, _ *fixture, s seed) string { return "/api/v1/events/" + s.shop }, "", false, false, 200},
		{"deliveries", "GET", fixed("/api/v1/deliveries"), "", false, false, 200},
		{"delivery", "GET", func(_ *testing.T, _ *fixture, s seed) string { return "/api/v1/deliveries/" + s.shopOMS }, "", false, false, 200},
		{"dlq", "GET", fixed("/api/v1/dlq"), "", false, false, 200},
		{"dlq replay dry run", "POST", fixed("/api/v1/dlq/replay"), `{"all":true,"dry_run":true}`, true, false, 200},
		{"quarantine", "GET", fixed("/api/v1/quarantine"), "", false, false, 200},
		{"alerts", "GET", fixed("/api/v1/alerts"), "", false, false, 200},
		{"slos", "GET", fixed("/api/v1/slos"), "", false, false, 200},
		{"delivery replay", "POST", func(t *testing.T, f *fixture, _ seed) string {
			return "/api/v1/deliveries/" + freshDead(t, f) + "/replay"
		}, "", true, false, 200},
		{"delivery cancel", "POST", func(t *testing.T, f *fixture, _ seed) string {
			_, ids := f.ingest(t, "shop", "orders/create", []byte(`{}`), "oms")
			return "/api/v1/deliveries/" + ids[0] + "/cancel"
		}, "", true, false, 200},
		{"openapi", "GET", fixed("/api/v1/openapi.json"), "", false, false, 200},
		{"events search", "GET", fixed("/api/v1/events?q=key-&state=dead"), "", false, false, 200},
		{"tokens", "GET", fixed("/api/v1/tokens"), "", false, true, 200},
		{"token create", "POST", fixed("/api/v1/tokens"), `{"name":"matrix","role":"viewer"}`, false, true, 201},
		{"token revoke", "DELETE", func(t *testing.T, f *fixture, _ seed) string {
			return "/api/v1/tokens/" + f.createToken(t, "viewer").ID
		}, "", false, true, 200},
		{"audit", "GET", fixed("/api/v1/audit"), "", false, true, 200},
		{"audit verify", "GET", fixed("/api/v1/audit/verify"), "", false, true, 200},
		{"destinations", "GET", fixed("/api/v1/destinations"), "", false, false, 200},
		{"destination", "GET", fixed("/api/v1/destinations/oms"), "", false, false, 200},
		// pause is idempotent, so every role that may write gets 200.
		{"destination pause", "POST", fixed("/api/v1/destinations/erp/pause"), `{"reason":"maintenance"}`, true, false, 200},
		{"destination resume", "POST", fixed("/api/v1/destinations/crm/resume"), "", true, false, 200},
		{"unknown path", "GET", fixed("/api/v1/nope"), "", false, false, 404},
		{"wrong method", "DELETE", fixed("/api/v1/events"), "", false, false, 405},
	}
	callers := []struct {
		name, token string
		role        string
	}{
		{"no token", "", ""},
		{"bad token", badToken, ""},
		{"viewer", viewerToken, "viewer"},
		{"operator", operatorToken, "operator"},
		{"admin", adminToken, "admin"},
	}
	for _, c := range cases {
		for _, who := range callers {
			t.Run(c.name+"/"+who.name, func(t *testing.T) {
				status, h, body := f.do(t, c.method, c.path(t, f, s), who.token, c.body)
				want := c.ok
				switch {
				case who.role == "":
					want = http.StatusUnauthorized
				case c.write && who.role == "viewer", c.admin && who.role != "admin":
					want = http.StatusForbidden
				}
				if status != want {
					t.Fatalf("status %d, want %d: %s", status, want, body)
				}
				if status >= 400 {
					if ct := h.Get("Content-Type"); ct != "application/problem+json" {
						t.Errorf("Content-Type %q for %d", ct, status)
					}
					if !strings.Contains(body, fmt.Sprintf(`"status":%d`, status)) {
						t.Errorf("problem body %s", body)
					}
				}
				if status == http.StatusUnauthorized && !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("WWW-Authenticate = %q", h.Get("WWW-Authenticate"))
				}
				if c.name == "whoami" && status == 200 && !strings.Contains(body, `"role":"`+who.role+`"`) {
					t.Errorf("whoami = %s", body)
				}
			})
		}
	}
	// Nothing the matrix sent — tokens, signatures, bodies — reaches the log.
	logs := f.logs.String()
	for _, secret := range []string{adminToken, operatorToken, viewerToken, badToken, shopifySig, stripeSig, githubSig, bodyMarker} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains %q:\n%s", secret, logs)
		}
	}
	if !strings.Contains(logs, "delivery replay") || !strings.Contains(logs, "by=oncall") {
		t.Errorf("replays are not logged with who did them:\n%s", logs)
	}
}

// scenario is one request with the admin token (unless token is set) and
// what the answer must hold.
type scenario struct {
	name    string
	method  string
	path    func(s seed) string
	header  map[string]string // replaces the Authorization header when it has one
	body    string
	status  int
	has     []string
	hasNot  []string
	problem bool // answer must be application/problem+json
}

func p(path string) func(seed) string { return func(seed) string { return path } }

func TestScenarios(t *testing.T) {
	f := setup(t)
	s := f.seed(t)
	// One dead delivery on the shop event too, beside its pending one.
	_, shopWH := f.ingest(t, "shop", "orders/paid", []byte(`{"id":2}`), "wh")
	f.kill(t, "wh")

	scenarios := []scenario{
		{name: "event detail masks signatures", method: "GET", path: func(s seed) string { return "/api/v1/events/" + s.shop },
			status: 200,
			has: []string{`"X-Shopify-Hmac-Sha256":["***"]`, `"Stripe-Signature":["***"]`, `"X-Hub-Signature-256":["***"]`,
				`"Webhook-Signature":["***"]`, `"X-Shopify-Topic":["orders/create"]`, `"Content-Type":["application/json"]`,
				`"body":{"id":1,"note":"` + bodyMarker + `"}`, `"body_encoding":"json"`, `"deliveries":[`,
				`"destination":"oms"`, `"state":"pending"`, `"received_at":"2026-11-28T11:00:01Z"`,
				`"trace_id":"` + tracing.TraceID(s.shop) + `"`},
			hasNot: []string{shopifySig, stripeSig, githubSig}},
		{name: "event detail with attempts", method: "GET", path: func(s seed) string { return "/api/v1/events/" + s.woo },
			status: 200,
			has: []string{`"body":"a=1&b=2"`, `"body_encoding":"text"`, `"state":"dead"`, `"history":[{"number":1`,
				`"status_code":400`, `"response_body":"{\"error\":\"bad order\"}"`, `"duration_ms":12`,
				`"idempotency_key":"hy_` + s.wooCRM + `"`}},
		{name: "binary body is base64", method: "GET", path: func(s seed) string { return "/api/v1/events/" + s.bin },
			status: 200, has: []string{`"body":"//4AAQ=="`, `"body_encoding":"base64"`, `"body_size":4`}},
		{name: "unknown event", method: "GET", path: p("/api/v1/events/evt_nope"), status: 404, problem: true,
			has: []string{`"title":"Not Found"`, "evt_nope"}},
		{name: "events filter source", method: "GET", path: p("/api/v1/events?source=stripe"), status: 200,
			has: []string{s.stripe, `"next_cursor":""`}, hasNot: []string{s.shop, s.woo, `"headers"`, `"body"`, `"trace_id"`}},
		{name: "events filter topic", method: "GET", path: p("/api/v1/events?topic=order.created"), status: 200,
			has: []string{s.woo}, hasNot: []string{s.shop, s.stripe}},
		{name: "events since duration", method: "GET", path: p("/api/v1/events?since=2h&until=2026-11-28T12:00:00Z"),
			status: 200, has: []string{s.shop, s.bin}},
		{name: "events until excludes", method: "GET", path: p("/api/v1/events?until=2026-11-28T11:00:02Z"),
			status: 200, has: []string{s.shop}, hasNot: []string{s.stripe}},
		{name: "bad limit", method: "GET", path: p("/api/v1/events?limit=0"), status: 400, problem: true, has: []string{"limit"}},
		{name: "limit too large", method: "GET", path: p("/api/v1/deliveries?limit=1001"), status: 400, problem: true, has: []string{"limit"}},
		{name: "limit not a number", method: "GET", path: p("/api/v1/dlq?limit=ten"), status: 400, problem: true, has: []string{"limit"}},
		{name: "bad since", method: "GET", path: p("/api/v1/events?since=yesterday"), status: 400, problem: true, has: []string{"since"}},
		{name: "bad until", method: "GET", path: p("/api/v1/deliveries?until=2026-13-01"), status: 400, problem: true, has: []string{"until"}},
		{name: "since after until", method: "GET", path: p("/api/v1/events?since=2026-11-28T12:00:00Z&until=2026-11-28T11:00:00Z"),
			status: 400, problem: true, has: []string{"since"}},
		{name: "unknown parameter", method: "GET", path: p("/api/v1/events?sauce=shop"), status: 400, problem: true, has: []string{"sauce"}},
		{name: "repeated parameter", method: "GET", path: p("/api/v1/events?source=a&source=b"), status: 400, problem: true, has: []string{"source"}},
		{name: "malformed query", method: "GET", path: p("/api/v1/events?source=%zz"), status: 400, problem: true, has: []string{"query"}},
		{name: "deliveries by state", method: "GET", path: p("/api/v1/deliveries?state=dead"), status: 200,
			has: []string{s.wooCRM, s.binCRM, shopWH[0]}, hasNot: []string{s.shopOMS, s.stripeOMS}},
		{name: "deliveries by state list", method: "GET", path: p("/api/v1/deliveries?state=dead,pending&destination=oms"), status: 200,
			has: []string{s.shopOMS, s.stripeOMS}, hasNot: []string{s.wooCRM}},
		{name: "deliveries by repeated state", method: "GET", path: p("/api/v1/deliveries?state=succeeded&state=pending"), status: 200,
			has: []string{s.shopOMS}, hasNot: []string{s.wooCRM}},
		{name: "deliveries by event", method: "GET", path: func(s seed) string { return "/api/v1/deliveries?event_id=" + s.stripe },
			status: 200, has: []string{s.stripeOMS}, hasNot: []string{s.shopOMS}},
		{name: "deliveries by route", method: "GET", path: p("/api/v1/deliveries?route=woo-%3Ecrm"), status: 200,
			has: []string{s.wooCRM}, hasNot: []string{s.binCRM}},
		{name: "unknown state", method: "GET", path: p("/api/v1/deliveries?state=zombie"), status: 400, problem: true,
			has: []string{"state", "zombie"}},
		{name: "dlq takes no state", method: "GET", path: p("/api/v1/dlq?state=pending"), status: 400, problem: true, has: []string{"state"}},
		{name: "dlq", method: "GET", path: p("/api/v1/dlq"), status: 200,
			has:    []string{s.wooCRM, s.binCRM, shopWH[0], `"last_error":"destination answered 400"`, `"completed_at":"2026-11-28T12:00:00Z"`},
			hasNot: []string{s.shopOMS, `"next_attempt_at"`}},
		{name: "dlq by destination", method: "GET", path: p("/api/v1/dlq?destination=wh"), status: 200,
			has: []string{shopWH[0]}, hasNot: []string{s.wooCRM}},
		{name: "delivery detail", method: "GET", path: func(s seed) string { return "/api/v1/deliveries/" + s.binCRM }, status: 200,
			has: []string{`"id":"` + s.binCRM + `"`, `"attempts":1`, `"history":[{"number":1`, `"error_class":"4xx"`}},
		{name: "pending delivery detail", method: "GET", path: func(s seed) string { return "/api/v1/deliveries/" + s.shopOMS }, status: 200,
			has: []string{`"history":[]`, `"next_attempt_at":"2026-11-28T11:00:01Z"`, `"max_attempts":5`}},
		{name: "unknown delivery", method: "GET", path: p("/api/v1/deliveries/dlv_nope"), status: 404, problem: true},
		{name: "replay live delivery", method: "POST", path: func(s seed) string { return "/api/v1/deliveries/" + s.shopOMS + "/replay" },
			status: 409, problem: true, has: []string{"pending"}},
		{name: "cancel dead delivery", method: "POST", path: func(s seed) string { return "/api/v1/deliveries/" + s.wooCRM + "/cancel" },
			status: 409, problem: true, has: []string{"dead"}},
		{name: "replay unknown delivery", method: "POST", path: p("/api/v1/deliveries/dlv_nope/replay"), status: 404, problem: true},
		{name: "replay neither ids nor all", method: "POST", path: p("/api/v1/dlq/replay"), body: `{}`, status: 400, problem: true, has: []string{"ids"}},
		{name: "replay ids and all", method: "POST", path: p("/api/v1/dlq/replay"), body: `{"ids":["a"],"all":true}`, status: 400, problem: true},
		{name: "replay ids with filter", method: "POST", path: p("/api/v1/dlq/replay"), body: `{"ids":["a"],"destination":"crm"}`,
			status: 400, problem: true, has: []string{"destination"}},
		{name: "replay empty id", method: "POST", path: p("/api/v1/dlq/replay"), body: `{"ids":["a",""]}`, status: 400, problem: true,
			has: []string{"ids[1]"}},
		{name: "replay too many ids", method: "POST", path: p("/api/v1/dlq/replay"),
			body: `{"ids":["` + strings.Repeat(`x","`, api.MaxReplayIDs) + `y"]}`, status: 400, problem: true, has: []string{"at most 1000"}},
		{name: "replay not json", method: "POST", path: p("/api/v1/dlq/replay"), body: `ids=1`, status: 400, problem: true, has: []string{"body"}},
		{name: "replay empty body", method: "POST", path: p("/api/v1/dlq/replay"), status: 400, problem: true, has: []string{"body"}},
		{name: "replay unknown field", method: "POST", path: p("/api/v1/dlq/replay"), body: `{"idz":["a"]}`, status: 400, problem: true,
			has: []string{"idz"}},
		{name: "replay wrong type", method: "POST", path: p("/api/v1/dlq/replay"), body: `{"ids":"a"}`, status: 400, problem: true,
			has: []string{"ids"}},
		{name: "replay trailing data", method: "POST", path: p("/api/v1/dlq/replay"), body: `{"all":true,"dry_run":true} {}`,
			status: 400, problem: true},
		{name: "replay body too large", method: "POST", path: p("/api/v1/dlq/replay"),
			body: `{"ids":["` + strings.Repeat("x", 2<<20) + `"]}`, status: 413, problem: true},
		{name: "dry run counts dead", method: "POST", path: p("/api/v1/dlq/replay"), body: `{"all":true,"dry_run":true}`, status: 200,
			has: []string{`{"matched":3,"replayed":0,"dry_run":true}`}},
		{name: "dry run by destination", method: "POST", path: p("/api/v1/dlq/replay"),
			body: `{"all":true,"destination":"crm","dry_run":true}`, status: 200, has: []string{`"matched":2`}},
		{name: "dry run by ids", method: "POST", path: p("/api/v1/dlq/replay"),
			body: fmt.Sprintf(`{"ids":[%q,%q,"dlv_nope"],"dry_run":true}`, s.wooCRM, s.shopOMS), status: 200,
			has: []string{`{"matched":1,"replayed":0,"dry_run":true}`}},
		{name: "basic auth is not a bearer token", method: "GET", path: p("/api/v1/events"),
			header: map[string]string{"Authorization": "Basic YWRtaW46YWRtaW4="}, status: 401, problem: true},
		{name: "empty bearer token", method: "GET", path: p("/api/v1/events"),
			header: map[string]string{"Authorization": "Bearer "}, status: 401, problem: true},
		{name: "token in another case of scheme", method: "GET", path: p("/api/v1/whoami"),
			header: map[string]string{"Authorization": "bearer " + adminToken}, status: 200, has: []string{`"name":"root"`}},
		{name: "token prefix is not the token", method: "GET", path: p("/api/v1/whoami"),
			header: map[string]string{"Authorization": "Bearer " + adminToken[:len(adminToken)-1]}, status: 401, problem: true},
		{name: "wrong method on known path", method: "GET", path: p("/api/v1/dlq/replay"), status: 405, problem: true,
			has: []string{"POST"}},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			var rd io.Reader
			if sc.body != "" {
				rd = strings.NewReader(sc.body)
			}
			req, err := http.NewRequest(sc.method, f.srv.URL+sc.path(s), rd)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+adminToken)
			for k, v := range sc.header {
				req.Header.Set(k, v)
			}
			resp, err := f.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body := string(b)
			if resp.StatusCode != sc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, sc.status, body)
			}
			ct := resp.Header.Get("Content-Type")
			if sc.problem && ct != "application/problem+json" {
				t.Errorf("Content-Type %q, want application/problem+json", ct)
			}
			if !sc.problem && ct != "application/json" {
				t.Errorf("Content-Type %q, want application/json", ct)
			}
			for _, want := range sc.has {
				if !strings.Contains(body, want) {
					t.Errorf("answer lacks %s:\n%s", want, body)
				}
			}
			for _, bad := range sc.hasNot {
				if strings.Contains(body, bad) {
					t.Errorf("answer contains %s:\n%s", bad, body)
				}
			}
		})
	}
}

func TestStoreUnavailable(t *testing.T) {
	f := setup(t)
	s := f.seed(t)
	f.store.Close()
	for _, path := range []string{"/api/v1/events", "/api/v1/events/" + s.shop, "/api/v1/dlq", "/api/v1/deliveries/" + s.shopOMS} {
		status, h, body := f.do(t, "GET", path, viewerToken, "")
		if status != http.StatusServiceUnavailable || h.Get("Content-Type") != "application/problem+json" {
			t.Errorf("GET %s = %d %s", path, status, body)
		}
		if strings.Contains(body, "closed") || strings.Contains(body, "sql") {
			t.Errorf("GET %s leaks internals: %s", path, body)
		}
	}
	// Authentication does not touch the store: a bad token is still 401.
	if status, _, _ := f.do(t, "GET", "/api/v1/events", badToken, ""); status != http.StatusUnauthorized {
		t.Errorf("bad token with store down = %d, want 401", status)
	}
}
