package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hookyard/hookyard/internal/api"
	"github.com/hookyard/hookyard/internal/tracing"
	"github.com/hookyard/hookyard/internal/webhook"
)

// chromiumPath is Debian's chromium; .ci/run installs it.
const chromiumPath = "/usr/bin/chromium"

var updateScreenshots = flag.Bool("update-screenshots", false,
	"console browser tests: write PNG screenshots of each page to docs/screenshots/")

const (
	consoleOperatorToken = "operator-token-0123456789abcdef"
	consoleViewerToken   = "viewer-token-0123456789abcdef"
)

// consoleNode runs a real node whose one destination fails with 400 (dead
// at once) while failing is set, and accepts otherwise.
type consoleNode struct {
	*node
	sink    *sink
	failing atomic.Bool
	admin   string // admin listener base URL
}

func startConsoleNode(t *testing.T) *consoleNode {
	t.Helper()
	cn := &consoleNode{}
	cn.sink = newSink(t, func(int) int {
		if cn.failing.Load() {
			return http.StatusBadRequest
		}
		return http.StatusOK
	})
	cfg := testNodeConfig(t, t.TempDir(), `admin:
  tokens:
    - {name: ops-lead, token: %s, role: admin}
    - {name: oncall, token: %s, role: operator}
    - {name: dashboard, token: %s, role: viewer}
sources:
  - name: shop
    provider: shopify
    secrets: ["%s"]
destinations:
  - name: oms
    type: http
    url: %s/orders
    timeout: 2s
    retry: {max_attempts: 3, initial_interval: 10ms, max_interval: 40ms}
  - name: warehouse
    type: http
    url: %s/stock
    timeout: 2s
routes:
  - name: shop-to-oms
    source: shop
    destination: oms
    filter: '.topic == "orders/create"'
    transform: '{order: .body.id, total: .body.total_price}'
    shadow: '{order: .body.id, total: (.body.total_price | tonumber)}'
slos:
  - {name: delivery-success, objective: 99.0%%, window: 28d, destination: oms}
  - {name: e2e-latency, objective: "p95 < 60s", window: 28d, destination: oms}
`, adminToken, consoleOperatorToken, consoleViewerToken, testSecret,
		cn.sink.srv.URL, cn.sink.srv.URL)
	srv, cancel := serveTest(t, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	cn.node = &node{server: srv, cancel: cancel,
		client: &api.Client{BaseURL: "http://" + srv.adminAddr, Token: adminToken, HTTP: http.DefaultClient}}
	cn.admin = "http://" + srv.adminAddr
	t.Cleanup(func() {
		cancel()
		if err := srv.wait(); err != nil {
			t.Errorf("server stopped with error: %v", err)
		}
	})
	return cn
}

// event posts a signed order with the provider id whID and waits until its
// delivery is in state; it returns the event and delivery ids.
func (cn *consoleNode) event(t *testing.T, whID string, n int, state webhook.State) (string, string) {
	t.Helper()
	resp, ack := post(t, cn.ingestURL("shop"), orderBody(n), whID)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("ingest %s: %d %s", whID, resp.StatusCode, ack)
	}
	id, _ := decodeAck(t, ack)
	d := waitState(t, cn.node, id, state)
	return id, d.ID
}

// newBrowser starts headless chromium with a fresh profile, or skips; tabs
// opened on the returned context share that browser.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("console browser tests need Debian's chromium at %s (apt-get install chromium): %v", chromiumPath, err)
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
	)
	t.Cleanup(cancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		t.Fatalf("start chromium: %v", err)
	}
	return bctx
}

// tab is one browser context (its own cookies) with one tab.
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string
}

func openTab(t *testing.T, browser context.Context, base string) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 860)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return &tab{t: t, ctx: ctx, base: base}
}

// do runs steps with a generous bound, so a stuck page fails the test
// instead of hanging it.
func (b *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

func runIn[T any](b *tab, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("browser: %v", err)
	}
	return v
}

// idSel selects the element with id (delivery ids hold a dot, which a
// "#id" selector would read as a class).
func idSel(id string) string { return fmt.Sprintf("[id=%q]", id) }

// nav runs act, which makes the page navigate, and waits until the new
// document has loaded: the old document's marker is gone.
func (b *tab) nav(act func()) {
	b.t.Helper()
	runIn(b, chromedp.Evaluate[bool]("window.__hyOld = true"))
	act()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
		done, err := chromedp.Run(ctx, chromedp.Evaluate[bool](
			`window.__hyOld === undefined && document.readyState === "complete"`))
		cancel()
		if err == nil && done {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("the page did not navigate (last error: %v)", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// clickNav clicks a link or submit button and waits for the next page.
func (b *tab) clickNav(sel chromedp.CSS) {
	b.t.Helper()
	b.nav(func() { b.do(chromedp.Click(sel, chromedp.NodeVisible)) })
}

func (b *tab) open(path string) { b.do(chromedp.Navigate(b.base + path)) }

func (b *tab) text(sel string) string {
	return runIn(b, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
}

func (b *tab) count(css string) int {
	return runIn(b, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%q).length", css)))
}

func (b *tab) location() string { return runIn(b, chromedp.Location()) }

func (b *tab) login(token string) {
	b.t.Helper()
	b.open("/console/")
	if loc := b.location(); !strings.HasSuffix(loc, "/console/login") {
		b.t.Fatalf("without a session /console/ went to %s, want the login page", loc)
	}
	b.do(chromedp.SendKeys(chromedp.ID("token"), token))
	b.clickNav(chromedp.CSS("#login"))
	b.do(chromedp.WaitVisible(chromedp.ID("queues")))
}

func (b *tab) screenshot(name string) {
	b.t.Helper()
	if !*updateScreenshots {
		return
	}
	png := runIn(b, chromedp.FullScreenshot(100))
	path := filepath.Join("..", "..", "docs", "screenshots", name+".png")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// waitText reloads path until sel's text contains want (the console has no
// script to refresh itself).
func (b *tab) waitText(path, sel, want string) {
	b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		b.open(path)
		got := b.text(sel)
		if strings.Contains(got, want) {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s: %s never showed %q; last: %q", path, sel, want, got)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestConsoleBrowser drives the console in headless Chromium as an
// operator: log in, find a failed event by its provider id, open it,
// replay it and see it delivered; filter; replay from the dead-letter
// queue with its confirmation; and a forged CSRF token is refused.
func TestConsoleBrowser(t *testing.T) {
	browser := newBrowser(t)
	cn := startConsoleNode(t)

	// Traffic spread over scripted samples eight minutes apart, so the
	// status page has most of an hour to draw.
	_, tick := scriptedMinutes(t, cn.alerts.engine)
	cn.failing.Store(true)
	failedID, failedDlv := cn.event(t, "wh-failed-1001", 1, webhook.StateDead)
	tick(8)
	dlqID, dlqDlv := cn.event(t, "wh-failed-1002", 2, webhook.StateDead)
	csrfID, csrfDlv := cn.event(t, "wh-failed-1003", 3, webhook.StateDead)
	tick(16)
	cn.failing.Store(false)
	for i := range 6 {
		cn.event(t, fmt.Sprintf("wh-ok-%d", 2000+i), 10+i, webhook.StateSucceeded)
		if i == 0 {
			// A provider retry of the same delivery: a dedup hit.
			if resp, _ := post(t, cn.ingestURL("shop"), orderBody(10), "wh-ok-2000"); resp.StatusCode != http.StatusOK {
				t.Fatalf("duplicate: %d", resp.StatusCode)
			}
		}
		if i%2 == 1 {
			tick(24 + 8*(i/2))
		}
	}
	// An authentic body that is not JSON is quarantined.
	if resp, b := post(t, cn.ingestURL("shop"), []byte("total_price=19.99&not=json"), "wh-bad-body"); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("non-JSON body: %d %s", resp.StatusCode, b)
	}

	op := openTab(t, browser, cn.admin)
	op.open("/console/login")
	op.screenshot("login")
	op.login(consoleOperatorToken)
	if who := op.text("form.who span"); !strings.Contains(who, "oncall") || !strings.Contains(who, "operator") {
		t.Errorf("header shows %q, want the operator's name and role", who)
	}
	// The status page draws the scripted minutes as sparklines.
	for _, id := range []string{"spark-oms-success", "spark-oms-p95", "spark-oms-depth", "spark-oms-errors", "spark-dedup"} {
		if n := op.count("#" + id + " svg path"); n == 0 {
			t.Errorf("status page: %s draws no path", id)
		}
	}
	if n := op.count(`a[href="/console/audit"]`); n != 0 {
		t.Error("an operator sees the audit log link")
	}
	op.screenshot("status")

	// Filter the events by provider id: exactly the failed event.
	op.open("/console/events")
	if n := op.count("#results tbody a[href^='/console/events/evt_']"); n != 9 {
		t.Errorf("events list shows %d events, want 9", n)
	}
	op.screenshot("events")
	op.do(chromedp.SendKeys(chromedp.CSS("input[name=q]"), "wh-failed-1001"))
	op.clickNav(chromedp.CSS("#apply"))
	if n := op.count("#results tbody a[href^='/console/events/evt_']"); n != 1 {
		t.Fatalf("search by provider id shows %d events, want 1", n)
	}
	if row := op.text("#results tbody tr"); !strings.Contains(row, failedID) || !strings.Contains(row, "wh-failed-1001") {
		t.Fatalf("search result row %q, want event %s", row, failedID)
	}
	// The status filter lists the dead deliveries.
	op.open("/console/events?state=dead")
	if n := op.count("#results .st-dead"); n != 3 {
		t.Errorf("status dead shows %d deliveries, want 3", n)
	}

	// Open the failed event and replay it; the destination now accepts.
	op.open("/console/events?q=wh-failed-1001")
	op.clickNav(chromedp.CSS("#results tbody a"))
	if st := op.text(idSel(failedDlv) + " .st"); st != "dead" {
		t.Fatalf("failed delivery shows state %q", st)
	}
	if attempt := op.text(idSel(failedDlv) + " ol.timeline"); !strings.Contains(attempt, "HTTP 400") {
		t.Errorf("attempt timeline %q lacks the 400", attempt)
	}
	if h := op.text("table.headers"); strings.Contains(h, "X-Shopify-Hmac-Sha256") && !strings.Contains(h, "***") {
		t.Errorf("headers not masked: %q", h)
	}
	if tid := op.text("#trace-id"); tid != tracing.TraceID(failedID) {
		t.Errorf("event page shows trace id %q, want %s", tid, tracing.TraceID(failedID))
	}
	op.screenshot("event")
	before := cn.sink.count()
	op.clickNav(chromedp.CSS(idSel(failedDlv) + " button.replay"))
	op.do(chromedp.WaitVisible(chromedp.ID("notice")))
	op.waitText("/console/events/"+failedID, idSel(failedDlv)+" .st", "succeeded")
	if cn.sink.count() <= before {
		t.Error("the destination received nothing after the replay")
	}

	// The dead-letter queue: select one, see the count, confirm.
	op.open("/console/dlq")
	op.screenshot("dlq")
	op.do(chromedp.Click(chromedp.CSS("input[value='" + dlqDlv + "']")))
	op.clickNav(chromedp.CSS("#replay-selected"))
	if c := op.text("#count"); !strings.Contains(c, "replays 1 dead delivery") {
		t.Fatalf("confirmation says %q", c)
	}
	op.screenshot("dlq-confirm")
	op.clickNav(chromedp.CSS("#confirm"))
	if d := op.text("#done"); !strings.Contains(d, "Replayed 1 of 1") {
		t.Fatalf("result says %q", d)
	}
	op.waitText("/console/events/"+dlqID, idSel(dlqDlv)+" .st", "succeeded")

	// A forged CSRF token is refused and changes nothing.
	op.open("/console/events/" + csrfID)
	op.do(chromedp.SetValue(chromedp.CSS(idSel(csrfDlv)+" input[name=csrf]"), "forged-token"))
	op.clickNav(chromedp.CSS(idSel(csrfDlv) + " button.replay"))
	if h := op.text("h1"); !strings.HasPrefix(h, "403") {
		t.Errorf("forged CSRF answered %q, want 403", h)
	}
	if d := waitState(t, cn.node, csrfID, webhook.StateDead); d.Attempts != 1 {
		t.Errorf("after the refused replay the delivery has %d attempts", d.Attempts)
	}

	// The route playground, loaded with the failed event: every stage.
	op.open("/console/routes?event=" + failedID)
	if body := runIn(op, chromedp.Value(chromedp.ID("pbody"))); !strings.Contains(body, "820982911946154501") {
		t.Fatalf("playground body %q, want the stored event's body", body)
	}
	op.clickNav(chromedp.CSS("#run"))
	if m := op.text("#matched"); m != "matched" {
		t.Errorf("filter stage shows %q", m)
	}
	if out := op.text("#stages"); !strings.Contains(out, `"order": 820982911946154501`) || !strings.Contains(out, `"total"`) ||
		!strings.Contains(out, "Shadow difference") {
		t.Errorf("stages: %q", out)
	}
	op.screenshot("routes")

	for _, p := range []string{"quarantine", "alerts"} {
		op.open("/console/" + p)
		op.screenshot(p)
	}
	op.open("/console/quarantine")
	if n := op.count("main section.delivery"); n != 1 {
		t.Errorf("quarantine shows %d requests, want the one non-JSON body", n)
	}

	// An admin finds the operator's replays in the audit log, filters them
	// and verifies the chain.
	adm := openTab(t, browser, cn.admin)
	adm.login(adminToken)
	adm.clickNav(chromedp.CSS(`header nav a[href="/console/audit"]`))
	if rows := adm.text("#results tbody"); !strings.Contains(rows, "POST /api/v1/deliveries/{id}/replay") ||
		!strings.Contains(rows, failedDlv) || !strings.Contains(rows, "POST /api/v1/dlq/replay") {
		t.Errorf("audit log rows %q lack the operator's replays", rows)
	}
	adm.do(chromedp.SendKeys(chromedp.CSS("input[name=action]"), "POST /api/v1/deliveries/{id}/replay"),
		chromedp.SendKeys(chromedp.CSS("input[name=actor]"), "oncall"))
	adm.clickNav(chromedp.CSS("#apply"))
	if n := adm.count("#results tbody tr"); n != 1 {
		t.Errorf("filtered audit log shows %d rows, want the one replay from the event page (the forged one never reached the API)", n)
	}
	adm.clickNav(chromedp.CSS("#verify"))
	if v := adm.text("#verify-result"); !strings.Contains(v, "Chain intact.") || !strings.Contains(v, "3 entries verified") {
		t.Errorf("verify shows %q, want the three operator actions verified", v)
	}
	if n := adm.count("#results tbody tr"); n != 1 {
		t.Errorf("after verifying, the filtered list shows %d rows, want it still filtered to 1", n)
	}
	adm.screenshot("audit")

	// Destinations: the operator pauses oms with a reason; a new order
	// waits as due work until the operator resumes it, then it is delivered.
	op.open("/console/destinations")
	if st := op.text("#dest-oms td.status"); !strings.HasPrefix(st, "active") {
		t.Fatalf("oms status %q, want active", st)
	}
	if br := op.text("#dest-oms td.breaker"); br != "closed" {
		t.Errorf("oms breaker %q, want closed", br)
	}
	op.do(chromedp.SendKeys(chromedp.CSS("#dest-oms input[name=reason]"), "vendor maintenance"))
	op.clickNav(chromedp.CSS("#dest-oms button.pause"))
	if c := op.text("#count"); !strings.Contains(c, "Nothing more is sent to oms") {
		t.Errorf("pause confirmation: %q", c)
	}
	op.screenshot("pause")
	op.clickNav(chromedp.CSS("#confirm"))
	if n := op.text("#notice"); !strings.Contains(n, "Destination oms paused") {
		t.Errorf("notice after pause: %q", n)
	}
	if st := op.text("#dest-oms td.status"); !strings.HasPrefix(st, "paused") || !strings.Contains(st, "paused by oncall: vendor maintenance") {
		t.Fatalf("oms status after pause %q", st)
	}
	before = cn.sink.count()
	heldID, _ := cn.event(t, "wh-held-4001", 40, webhook.StatePending)
	op.waitText("/console/destinations", "#dest-oms td:nth-child(4)", "1")
	if n := cn.sink.count(); n != before {
		t.Errorf("the sink received %d requests while oms was paused", n-before)
	}
	op.screenshot("destinations")
	op.clickNav(chromedp.CSS("#dest-oms button.resume"))
	if st := op.text("#dest-oms td.status"); !strings.HasPrefix(st, "active") {
		t.Errorf("oms status after resume %q", st)
	}
	waitState(t, cn.node, heldID, webhook.StateSucceeded)
	if cn.sink.count() <= before {
		t.Error("the held order was not delivered after resume")
	}
}

// TestConsoleBrowserViewer: a viewer sees the dead letter but no replay
// control, and a replay forged from the viewer's own page is refused.
func TestConsoleBrowserViewer(t *testing.T) {
	browser := newBrowser(t)
	cn := startConsoleNode(t)
	cn.failing.Store(true)
	evID, dlv := cn.event(t, "wh-failed-3001", 1, webhook.StateDead)

	v := openTab(t, browser, cn.admin)
	v.login(consoleViewerToken)
	v.open("/console/events/" + evID)
	if st := v.text(idSel(dlv) + " .st"); st != "dead" {
		t.Fatalf("state %q", st)
	}
	if n := v.count("button.replay, button.cancel"); n != 0 {
		t.Errorf("a viewer sees %d replay/cancel buttons", n)
	}
	v.open("/console/dlq")
	if n := v.count("#results tbody tr"); n != 1 {
		t.Errorf("a viewer's DLQ shows %d rows, want 1", n)
	}
	if n := v.count("input[type=checkbox], #replay-selected, #replay-all"); n != 0 {
		t.Errorf("a viewer's DLQ offers %d replay controls", n)
	}
	v.open("/console/routes")
	if n := v.count("#routes tbody tr"); n != 1 {
		t.Errorf("a viewer's routes page lists %d routes, want 1", n)
	}
	if n := v.count("#run, textarea"); n != 0 {
		t.Errorf("a viewer sees the preview playground (%d controls)", n)
	}
	v.open("/console/destinations")
	if n := v.count("#dest-oms"); n != 1 {
		t.Errorf("a viewer's destinations page shows %d oms rows, want 1", n)
	}
	if n := v.count("#destinations form, #destinations button"); n != 0 {
		t.Errorf("a viewer's destinations page offers %d controls", n)
	}
	// Forge the replay form with the viewer's valid CSRF token.
	forge := fmt.Sprintf(`(() => {
		const f = document.createElement("form");
		f.method = "post"; f.action = "/console/deliveries/%s/replay";
		const i = document.createElement("input");
		i.type = "hidden"; i.name = "csrf"; i.value = document.querySelector("form.who input[name=csrf]").value;
		f.appendChild(i); document.body.appendChild(f); f.submit(); return true;
	})()`, dlv)
	v.nav(func() { runIn(v, chromedp.Evaluate[bool](forge)) })
	if h, p := v.text("h1"), v.text("#problem"); !strings.HasPrefix(h, "403") || !strings.Contains(p, "needs operator") {
		t.Errorf("viewer replay answered %q: %q", h, p)
	}
	if d := waitState(t, cn.node, evID, webhook.StateDead); d.Attempts != 1 {
		t.Errorf("after the refused replay the delivery has %d attempts", d.Attempts)
	}
}

// TestRoutePreviewAPI runs the configured route on pasted events through
// POST /api/v1/routes/{name}/preview: every stage, the shadow difference,
// a filter miss, and the refusals.
func TestRoutePreviewAPI(t *testing.T) {
	cn := startConsoleNode(t)
	ctx := context.Background()
	rl, err := cn.client.Routes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rl.Routes) != 1 || rl.Routes[0].Name != "shop-to-oms" || rl.Routes[0].Source != "shop" || rl.Routes[0].Destination != "oms" {
		t.Fatalf("routes = %+v", rl.Routes)
	}
	res, err := cn.client.PreviewRoute(ctx, "shop-to-oms", api.PreviewRequest{Topic: "orders/create",
		Body: []byte(`{"id":7,"total_price":"19.99"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Matched || res.Priority != "normal" || string(res.Output) != `{"order":7,"total":"19.99"}` ||
		string(res.Shadow) != `{"order":7,"total":19.99}` || !strings.Contains(string(res.ShadowDiff), "total") || res.Version == "" {
		t.Errorf("preview = %+v (output %s, shadow %s, diff %s)", res, res.Output, res.Shadow, res.ShadowDiff)
	}
	res, err = cn.client.PreviewRoute(ctx, "shop-to-oms", api.PreviewRequest{Topic: "orders/paid", Body: []byte(`{"id":7}`)})
	if err != nil || res.Matched {
		t.Errorf("other topic: matched %v, %v", res.Matched, err)
	}
	viewer := &api.Client{BaseURL: cn.admin, Token: consoleViewerToken}
	// A pasted body is the caller's own: any role may preview it (a stored
	// event's unmasked body is another matter: internal/api's TestRoutePreview).
	if _, err := viewer.PreviewRoute(ctx, "shop-to-oms", api.PreviewRequest{Body: []byte(`{}`)}); err != nil {
		t.Errorf("viewer preview of a pasted body: %v", err)
	}
	if _, err := viewer.Routes(ctx); err != nil {
		t.Errorf("viewer route list: %v", err)
	}
	if _, err := cn.client.PreviewRoute(ctx, "nope", api.PreviewRequest{Body: []byte(`{}`)}); !errors.Is(err, webhook.ErrNotFound) {
		t.Errorf("unknown route: %v, want 404", err)
	}
	if _, err := cn.client.PreviewRoute(ctx, "shop-to-oms", api.PreviewRequest{}); !errors.Is(err, webhook.ErrInvalid) {
		t.Errorf("no body: %v, want 400", err)
	}
}
