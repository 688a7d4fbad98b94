package console_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/hookyard/hookyard/internal/api"
	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/console"
	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/store/sqlite"
	"github.com/hookyard/hookyard/internal/tracing"
	"github.com/hookyard/hookyard/internal/webhook"
)

// TestMain checks for leaked goroutines after the benchmark store, which
// lives for the whole run, is closed.
func TestMain(m *testing.M) {
	code := m.Run()
	closePageBench()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

const (
	adminToken    = "admin-token-0123456789abcdef"
	operatorToken = "operator-token-0123456789abcdef"
	viewerToken   = "viewer-token-0123456789abcdef"
	signature     = "c2hvcGlmeS1zaWduYXR1cmUtdmFsdWU="
)

var t0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// fixture is a real SQLite store behind the real admin API and the console
// on one httptest server, with a clock tests may move.
type fixture struct {
	store *sqlite.Store
	path  string // the SQLite file
	srv   *httptest.Server

	mu      sync.Mutex
	now     time.Time
	seq     int
	breaker map[string]string // this node's breaker per destination; closed when absent
}

func (f *fixture) breakerState(name string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if b, ok := f.breaker[name]; ok {
		return b
	}
	return "closed"
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func setup(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{now: t0}
	f.path = filepath.Join(t.TempDir(), "hookyard.db")
	st, err := sqlite.Open(context.Background(), f.path, sqlite.Config{Now: f.clock})
	if err != nil {
		t.Fatal(err)
	}
	f.store = st
	h := api.New(api.Config{Store: st, Now: f.clock, Destinations: []string{"idle", "oms"},
		DestinationControls: api.DestinationControls{Controls: st, Breaker: f.breakerState},
		Tokens: []config.Token{
			{Name: "root", Token: adminToken, Role: "admin"},
			{Name: "oncall", Token: operatorToken, Role: "operator"},
			{Name: "dash", Token: viewerToken, Role: "viewer"},
		}})
	con, err := console.New(console.Config{API: h, Sessions: st, Now: f.clock, SessionTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", h)
	mux.Handle("/console/", con)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		f.srv.Close()
		st.Close()
	})
	return f
}

// ingest stores an event with a signature header and one delivery per
// destination; it returns the event and delivery ids.
func (f *fixture) ingest(t *testing.T, source, topic, dedup string, dests ...string) (string, []string) {
	t.Helper()
	f.mu.Lock()
	f.seq++
	at := t0.Add(-time.Hour).Add(time.Duration(f.seq) * time.Second)
	f.mu.Unlock()
	ev := &webhook.Event{ID: webhook.NewID("evt_", at), Source: source, Provider: "shopify", Topic: topic,
		DedupKey: dedup, ReceivedAt: at,
		Headers: http.Header{"Content-Type": {"application/json"}, "X-Shopify-Hmac-Sha256": {signature}},
		Body:    []byte(fmt.Sprintf(`{"id":%d,"note":"<script>alert(1)</script>","paid":true}`, f.seq))}
	nds := make([]webhook.NewDelivery, len(dests))
	for i, d := range dests {
		nds[i] = webhook.NewDelivery{Destination: d, Route: source + "-" + d, Priority: webhook.PriorityNormal, MaxAttempts: 5}
	}
	if _, err := f.store.Ingest(context.Background(), ev, nds); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(dests))
	for i := range dests {
		ids[i] = store.DeliveryID(ev.ID, i)
	}
	return ev.ID, ids
}

// kill dead-letters every due delivery of dest after one failed attempt.
func (f *fixture) kill(t *testing.T, dest string) {
	t.Helper()
	ctx := context.Background()
	cs, err := f.store.DeliveryClaim(ctx, store.ClaimParams{Destination: dest, Owner: "test", Limit: 1000,
		Lease: time.Minute, Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if err := f.store.DeliveryDead(ctx, c.Delivery.ID, c.Delivery.LeaseToken, webhook.Attempt{Number: 1,
			StartedAt: t0, Duration: 12 * time.Millisecond, StatusCode: 400, ErrorClass: webhook.ClassHTTP4xx,
			Error: "destination answered 400", ResponseBody: []byte(`{"error":"bad order"}`)}); err != nil {
			t.Fatal(err)
		}
	}
}

func (f *fixture) state(t *testing.T, id string) webhook.State {
	t.Helper()
	d, err := f.store.DeliveryGet(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return d.State
}

// browser is a cookie-keeping client that does not follow redirects, so
// tests see each answer.
type browser struct {
	t  *testing.T
	f  *fixture
	hc *http.Client
}

func (f *fixture) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, f: f, hc: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type answer struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(method, path string, form url.Values) answer {
	b.t.Helper()
	var rd io.Reader
	if form != nil {
		rd = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.f.srv.URL+path, rd)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(body)}
}

func (b *browser) get(path string) answer { return b.do(http.MethodGet, path, nil) }

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the CSRF token embedded in a page.
func csrf(t *testing.T, page string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF field in page:\n%s", page)
	}
	return m[1]
}

// login logs in with token and returns the CSRF token of the session.
func (b *browser) login(token string) string {
	b.t.Helper()
	form := b.get("/console/login")
	a := b.do(http.MethodPost, "/console/login", url.Values{"csrf": {csrf(b.t, form.body)}, "token": {token}})
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/console/" {
		b.t.Fatalf("login: %d %s\n%s", a.status, a.header.Get("Location"), a.body)
	}
	return csrf(b.t, b.get("/console/").body)
}

func TestLoginSessionCookie(t *testing.T) {
	f := setup(t)
	b := f.browser(t)

	// Without a session every page sends the browser to the login form.
	a := b.get("/console/events")
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/console/login" {
		t.Fatalf("anonymous GET: %d %q", a.status, a.header.Get("Location"))
	}

	form := b.get("/console/login")
	if form.status != http.StatusOK || !strings.Contains(form.body, `name="token"`) {
		t.Fatalf("login form: %d\n%s", form.status, form.body)
	}
	if csp := form.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}

	// A wrong token is refused without a session.
	a = b.do(http.MethodPost, "/console/login", url.Values{"csrf": {csrf(t, form.body)}, "token": {"not-a-token-0123456789"}})
	if a.status != http.StatusUnauthorized || !strings.Contains(a.body, "not valid") {
		t.Fatalf("bad token: %d\n%s", a.status, a.body)
	}
	if b.get("/console/").status != http.StatusSeeOther {
		t.Fatal("a refused login opened a session")
	}

	// A login without the form's CSRF token is refused even with a good token.
	a = b.do(http.MethodPost, "/console/login", url.Values{"csrf": {"forged"}, "token": {adminToken}})
	if a.status != http.StatusForbidden {
		t.Fatalf("login with forged CSRF: %d", a.status)
	}

	form = b.get("/console/login")
	a = b.do(http.MethodPost, "/console/login", url.Values{"csrf": {csrf(t, form.body)}, "token": {viewerToken}})
	if a.status != http.StatusSeeOther {
		t.Fatalf("login: %d\n%s", a.status, a.body)
	}
	var sc string
	for _, c := range a.header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "hookyard_session=") {
			sc = c
		}
	}
	for _, want := range []string{"HttpOnly", "SameSite=Strict", "Path=/console/", "Max-Age=3600"} {
		if !strings.Contains(sc, want) {
			t.Errorf("session cookie %q lacks %s", sc, want)
		}
	}
	if strings.Contains(sc, "Secure") {
		t.Errorf("session cookie %q is Secure over plain HTTP (the browser would drop it)", sc)
	}
	if strings.Contains(sc, viewerToken) {
		t.Error("the session cookie holds the token")
	}
	page := b.get("/console/")
	if page.status != http.StatusOK || !strings.Contains(page.body, "dash") || !strings.Contains(page.body, "viewer") {
		t.Fatalf("status page: %d\n%s", page.status, page.body)
	}

	// Logout needs the CSRF token, then ends the session.
	if a := b.do(http.MethodPost, "/console/logout", url.Values{}); a.status != http.StatusForbidden {
		t.Fatalf("logout without CSRF: %d", a.status)
	}
	a = b.do(http.MethodPost, "/console/logout", url.Values{"csrf": {csrf(t, page.body)}})
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/console/login" {
		t.Fatalf("logout: %d %q", a.status, a.header.Get("Location"))
	}
	if b.get("/console/").status != http.StatusSeeOther {
		t.Fatal("session still valid after logout")
	}
}

func TestSessionExpires(t *testing.T) {
	f := setup(t)
	b := f.browser(t)
	b.login(operatorToken)
	f.mu.Lock()
	f.now = f.now.Add(time.Hour)
	f.mu.Unlock()
	if a := b.get("/console/events"); a.status != http.StatusSeeOther || a.header.Get("Location") != "/console/login" {
		t.Fatalf("after the TTL: %d %q", a.status, a.header.Get("Location"))
	}
}

func TestSecureCookieUnderTLS(t *testing.T) {
	f := setup(t)
	b := f.browser(t)
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/console/login", nil)
	req.Header.Set("X-Forwarded-Proto", "https")
	resp, err := b.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if c := resp.Header.Get("Set-Cookie"); !strings.Contains(c, "Secure") {
		t.Errorf("cookie behind TLS = %q, want Secure", c)
	}
}

func TestEventsFilterAndPages(t *testing.T) {
	f := setup(t)
	for i := range 120 {
		src := "shop"
		if i%2 == 1 {
			src = "stripe"
		}
		f.ingest(t, src, "orders/create", fmt.Sprintf("wh-%03d", i), "oms")
	}
	b := f.browser(t)
	b.login(viewerToken)

	a := b.get("/console/events?source=stripe")
	if a.status != http.StatusOK {
		t.Fatalf("%d\n%s", a.status, a.body)
	}
	if strings.Contains(a.body, "<td>shop</td>") || strings.Count(a.body, "<td>stripe</td>") != 50 {
		t.Fatalf("source filter: %d stripe rows, shop present %v", strings.Count(a.body, "<td>stripe</td>"),
			strings.Contains(a.body, "<td>shop</td>"))
	}
	// Keyset pages: follow "Older" until the end; every stripe event once.
	seen := map[string]bool{}
	idRE := regexp.MustCompile(`href="/console/events/(evt_[^"#]+)"`)
	nextRE := regexp.MustCompile(`href="([^"]+)" id="next"`)
	page := a
	for pages := 1; ; pages++ {
		for _, m := range idRE.FindAllStringSubmatch(page.body, -1) {
			if seen[m[1]] {
				t.Fatalf("event %s on two pages", m[1])
			}
			seen[m[1]] = true
		}
		m := nextRE.FindStringSubmatch(page.body)
		if m == nil {
			if pages != 2 {
				t.Errorf("%d pages, want 2", pages)
			}
			break
		}
		page = b.get(strings.ReplaceAll(m[1], "&amp;", "&"))
	}
	if len(seen) != 60 {
		t.Errorf("saw %d stripe events over the pages, want 60", len(seen))
	}

	// The provider id finds its event; an unknown one finds nothing.
	a = b.get("/console/events?q=wh-007")
	if strings.Count(a.body, `href="/console/events/evt_`) != 1 || !strings.Contains(a.body, "wh-007") {
		t.Errorf("search by provider id:\n%s", a.body)
	}
	if a = b.get("/console/events?q=wh-none"); !strings.Contains(a.body, "No event matches") {
		t.Errorf("search miss:\n%s", a.body)
	}
	// A bad time filter is a 400 naming the field.
	if a = b.get("/console/events?since=yesterday"); a.status != http.StatusBadRequest || !strings.Contains(a.body, "since") {
		t.Errorf("bad since: %d\n%s", a.status, a.body)
	}
}

func TestStatusFilterAndSearchByID(t *testing.T) {
	f := setup(t)
	evDead, dls := f.ingest(t, "shop", "orders/create", "wh-dead", "oms")
	f.kill(t, "oms")
	f.ingest(t, "shop", "orders/create", "wh-live", "oms")
	b := f.browser(t)
	b.login(viewerToken)

	a := b.get("/console/events?state=dead")
	if !strings.Contains(a.body, dls[0]) || strings.Count(a.body, `<span class="st st-dead">`) != 1 ||
		strings.Contains(a.body, "st-pending") {
		t.Fatalf("state=dead:\n%s", a.body)
	}
	a = b.get("/console/events?state=pending&destination=oms")
	if strings.Contains(a.body, dls[0]) || strings.Count(a.body, "st-pending") != 1 {
		t.Fatalf("state=pending:\n%s", a.body)
	}
	// An event id or delivery id typed into the search opens the event.
	if a = b.get("/console/events?q=" + evDead); a.status != http.StatusSeeOther || a.header.Get("Location") != "/console/events/"+evDead {
		t.Errorf("search by event id: %d %q", a.status, a.header.Get("Location"))
	}
	if a = b.get("/console/events?q=" + dls[0]); a.status != http.StatusSeeOther ||
		a.header.Get("Location") != "/console/events/"+evDead+"#"+dls[0] {
		t.Errorf("search by delivery id: %d %q", a.status, a.header.Get("Location"))
	}
}

func TestEventDetailMasksAndEscapes(t *testing.T) {
	f := setup(t)
	ev, dls := f.ingest(t, "shop", "orders/create", "wh-1", "oms")
	f.kill(t, "oms")
	b := f.browser(t)
	b.login(viewerToken)
	a := b.get("/console/events/" + ev)
	if a.status != http.StatusOK {
		t.Fatalf("%d\n%s", a.status, a.body)
	}
	if strings.Contains(a.body, signature) {
		t.Error("the event page shows the signature")
	}
	for _, want := range []string{"X-Shopify-Hmac-Sha256</th><td class=\"mono\">***", dls[0], "destination answered 400",
		"HTTP 400", `{&#34;error&#34;:&#34;bad order&#34;}`, `<span class="k">&#34;note&#34;</span>`,
		`<span class="l">true</span>`, "&lt;script&gt;", `id="trace-id"`, ">" + tracing.TraceID(ev) + "</dd>"} {
		if !strings.Contains(a.body, want) {
			t.Errorf("event page lacks %q", want)
		}
	}
	if strings.Contains(a.body, "<script>") {
		t.Error("the body's markup reached the page unescaped")
	}
	if a = b.get("/console/events/evt_nope"); a.status != http.StatusNotFound {
		t.Errorf("unknown event: %d", a.status)
	}
}

func TestReplayFromEventPage(t *testing.T) {
	f := setup(t)
	ev, dls := f.ingest(t, "shop", "orders/create", "wh-1", "oms")
	f.kill(t, "oms")
	b := f.browser(t)
	tok := b.login(operatorToken)
	page := b.get("/console/events/" + ev)
	if !strings.Contains(page.body, `action="/console/deliveries/`+dls[0]+`/replay"`) {
		t.Fatalf("operator sees no replay button:\n%s", page.body)
	}
	a := b.do(http.MethodPost, "/console/deliveries/"+dls[0]+"/replay", url.Values{"csrf": {tok}})
	if a.status != http.StatusSeeOther || !strings.HasPrefix(a.header.Get("Location"), "/console/events/"+ev+"?notice=replayed") {
		t.Fatalf("replay: %d %q\n%s", a.status, a.header.Get("Location"), a.body)
	}
	if st := f.state(t, dls[0]); st != webhook.StatePending {
		t.Fatalf("after replay the delivery is %s", st)
	}
	// A second replay of a live delivery is a conflict, shown as such.
	a = b.do(http.MethodPost, "/console/deliveries/"+dls[0]+"/replay", url.Values{"csrf": {tok}})
	if a.status != http.StatusConflict {
		t.Errorf("replay of a pending delivery: %d", a.status)
	}
}

func TestCSRFRejected(t *testing.T) {
	f := setup(t)
	_, dls := f.ingest(t, "shop", "orders/create", "wh-1", "oms")
	f.kill(t, "oms")
	b := f.browser(t)
	tok := b.login(adminToken)
	other := f.browser(t)
	otherTok := other.login(adminToken) // a valid token, but of another session

	for name, form := range map[string]url.Values{
		"missing":       {},
		"wrong":         {"csrf": {"x" + tok}},
		"other session": {"csrf": {otherTok}},
	} {
		a := b.do(http.MethodPost, "/console/deliveries/"+dls[0]+"/replay", form)
		if a.status != http.StatusForbidden {
			t.Errorf("%s CSRF token: %d", name, a.status)
		}
		a = b.do(http.MethodPost, "/console/dlq/replay", url.Values{"csrf": form["csrf"], "scope": {"all"}, "confirm": {"yes"}})
		if a.status != http.StatusForbidden {
			t.Errorf("%s CSRF token, bulk replay: %d", name, a.status)
		}
	}
	// A browser-marked cross-site POST is refused even with the token.
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/console/deliveries/"+dls[0]+"/replay",
		strings.NewReader(url.Values{"csrf": {tok}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := b.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site POST: %d", resp.StatusCode)
	}
	if st := f.state(t, dls[0]); st != webhook.StateDead {
		t.Fatalf("a refused POST changed the delivery to %s", st)
	}
}

func TestViewerCannotReplay(t *testing.T) {
	f := setup(t)
	ev, dls := f.ingest(t, "shop", "orders/create", "wh-1", "oms")
	f.kill(t, "oms")
	b := f.browser(t)
	tok := b.login(viewerToken)
	for _, path := range []string{"/console/events/" + ev, "/console/dlq"} {
		page := b.get(path)
		if page.status != http.StatusOK || !strings.Contains(page.body, dls[0]) {
			t.Fatalf("%s: %d\n%s", path, page.status, page.body)
		}
		if strings.Contains(page.body, `class="replay"`) || strings.Contains(page.body, `id="replay-all"`) ||
			strings.Contains(page.body, `id="replay-selected"`) || strings.Contains(page.body, `type="checkbox"`) {
			t.Errorf("%s offers a viewer replay controls", path)
		}
	}
	// The server refuses anyway, with a valid CSRF token.
	a := b.do(http.MethodPost, "/console/deliveries/"+dls[0]+"/replay", url.Values{"csrf": {tok}})
	if a.status != http.StatusForbidden || !strings.Contains(a.body, "needs operator") {
		t.Errorf("viewer replay: %d\n%s", a.status, a.body)
	}
	for _, scope := range []url.Values{{"scope": {"all"}}, {"scope": {"selected"}, "id": {dls[0]}}} {
		for _, confirm := range []string{"", "yes"} {
			form := url.Values{"csrf": {tok}, "confirm": {confirm}}
			for k, v := range scope {
				form[k] = v
			}
			if a := b.do(http.MethodPost, "/console/dlq/replay", form); a.status != http.StatusForbidden {
				t.Errorf("viewer bulk replay %v: %d", form, a.status)
			}
		}
	}
	if st := f.state(t, dls[0]); st != webhook.StateDead {
		t.Fatalf("a viewer's POST changed the delivery to %s", st)
	}
}

func TestDLQBulkReplayConfirms(t *testing.T) {
	f := setup(t)
	var oms []string
	for i := range 3 {
		_, d := f.ingest(t, "shop", "orders/create", fmt.Sprintf("wh-%d", i), "oms")
		oms = append(oms, d[0])
	}
	_, other := f.ingest(t, "shop", "orders/create", "wh-x", "crm")
	f.kill(t, "oms")
	f.kill(t, "crm")
	b := f.browser(t)
	tok := b.login(operatorToken)

	// Selected: the first post only counts.
	a := b.do(http.MethodPost, "/console/dlq/replay", url.Values{"csrf": {tok}, "scope": {"selected"}, "id": {oms[0], oms[1]}})
	if a.status != http.StatusOK || !regexp.MustCompile(`replays <strong>2</strong> dead`).MatchString(a.body) {
		t.Fatalf("confirmation: %d\n%s", a.status, a.body)
	}
	if f.state(t, oms[0]) != webhook.StateDead {
		t.Fatal("the confirmation step replayed")
	}
	a = b.do(http.MethodPost, "/console/dlq/replay", url.Values{"csrf": {tok}, "scope": {"selected"}, "id": {oms[0], oms[1]},
		"confirm": {"yes"}})
	if !strings.Contains(a.body, "Replayed <strong>2</strong> of 2") {
		t.Fatalf("confirmed:\n%s", a.body)
	}
	if f.state(t, oms[0]) != webhook.StatePending || f.state(t, oms[1]) != webhook.StatePending || f.state(t, oms[2]) != webhook.StateDead {
		t.Fatal("selected replay touched the wrong deliveries")
	}

	// All of one destination: counts, then replays only that destination.
	a = b.do(http.MethodPost, "/console/dlq/replay", url.Values{"csrf": {tok}, "scope": {"all"}, "destination": {"oms"}})
	if !strings.Contains(a.body, "replays <strong>1</strong> dead") {
		t.Fatalf("all confirmation:\n%s", a.body)
	}
	b.do(http.MethodPost, "/console/dlq/replay", url.Values{"csrf": {tok}, "scope": {"all"}, "destination": {"oms"}, "confirm": {"yes"}})
	if f.state(t, oms[2]) != webhook.StatePending || f.state(t, other[0]) != webhook.StateDead {
		t.Fatal("replay of destination oms touched the wrong deliveries")
	}
	if a = b.do(http.MethodPost, "/console/dlq/replay", url.Values{"csrf": {tok}, "scope": {"selected"}}); a.status != http.StatusBadRequest {
		t.Errorf("nothing selected: %d", a.status)
	}
}

func TestOtherPages(t *testing.T) {
	f := setup(t)
	f.ingest(t, "shop", "orders/create", "wh-1", "oms")
	f.ingest(t, "shop", "orders/create", "wh-2", "oms")
	f.kill(t, "oms")
	f.ingest(t, "shop", "orders/create", "wh-3", "oms")
	q := &webhook.Event{ID: webhook.NewID("evt_", t0), Source: "shop", Provider: "shopify", Topic: "orders/create",
		DedupKey: "wh-q", ReceivedAt: t0, Headers: http.Header{"X-Shopify-Hmac-Sha256": {signature}}, Body: []byte(`{"id":"x"}`)}
	if err := f.store.Quarantine(context.Background(), q, "body: id: want a number"); err != nil {
		t.Fatal(err)
	}
	b := f.browser(t)
	b.login(viewerToken)
	for path, wants := range map[string][]string{
		"/console/":             {"SLO and alert evaluation is not running", `id="queues"`},
		"/console/destinations": {`<td class="num">1</td><td class="num">0</td><td class="num">0</td>`, `<a href="/console/dlq?destination=oms">2</a>`, ">idle<"},
		"/console/quarantine":   {"body: id: want a number", `<span class="k">&#34;id&#34;</span>`, "***"},
		"/console/alerts":       {"not running"},
		"/console/routes":       {"Routes are not available on this node"},
		"/console/dlq":          {"destination answered 400"},
	} {
		a := b.get(path)
		if a.status != http.StatusOK {
			t.Errorf("%s: %d\n%s", path, a.status, a.body)
			continue
		}
		for _, w := range wants {
			if !strings.Contains(a.body, w) {
				t.Errorf("%s lacks %q", path, w)
			}
		}
		if strings.Contains(a.body, signature) {
			t.Errorf("%s shows a signature", path)
		}
	}
	if a := b.get("/console/nope"); a.status != http.StatusNotFound {
		t.Errorf("unknown page: %d", a.status)
	}
	if a := b.get("/console/static/console.css"); a.status != http.StatusOK || !strings.Contains(a.header.Get("Content-Type"), "text/css") {
		t.Errorf("stylesheet: %d %s", a.status, a.header.Get("Content-Type"))
	}
}

func TestCancelFromEventPage(t *testing.T) {
	f := setup(t)
	ev, dls := f.ingest(t, "shop", "orders/create", "wh-1", "oms")
	viewer := f.browser(t)
	vtok := viewer.login(viewerToken)
	if a := viewer.do(http.MethodPost, "/console/deliveries/"+dls[0]+"/cancel", url.Values{"csrf": {vtok}}); a.status != http.StatusForbidden {
		t.Errorf("viewer cancel: %d", a.status)
	}
	if st := f.state(t, dls[0]); st != webhook.StatePending {
		t.Fatalf("a viewer's cancel changed the delivery to %s", st)
	}
	op := f.browser(t)
	tok := op.login(operatorToken)
	if page := op.get("/console/events/" + ev); !strings.Contains(page.body, `action="/console/deliveries/`+dls[0]+`/cancel"`) {
		t.Fatalf("operator sees no cancel button for a pending delivery:\n%s", page.body)
	}
	a := op.do(http.MethodPost, "/console/deliveries/"+dls[0]+"/cancel", url.Values{"csrf": {tok}})
	if a.status != http.StatusSeeOther || !strings.Contains(a.header.Get("Location"), "notice=cancelled") {
		t.Fatalf("cancel: %d %q", a.status, a.header.Get("Location"))
	}
	if st := f.state(t, dls[0]); st != webhook.StateCancelled {
		t.Fatalf("after cancel the delivery is %s", st)
	}
}
