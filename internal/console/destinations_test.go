package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/store"
)

// destStatus reads a destination's shared status from the store.
func (f *fixture) destStatus(t *testing.T, name string) store.DestinationState {
	t.Helper()
	all, err := f.store.DestinationStates(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range all {
		if st.Destination == name {
			return st
		}
	}
	return store.DestinationState{Destination: name, Status: store.StatusActive}
}

// row returns the table row of one destination on the destinations page.
func row(t *testing.T, page, name string) string {
	t.Helper()
	i := strings.Index(page, `<tr id="dest-`+name+`">`)
	if i < 0 {
		t.Fatalf("no row for %s:\n%s", name, page)
	}
	j := strings.Index(page[i:], "</tr>")
	return page[i : i+j]
}

func TestOperatorPausesAndResumesDestination(t *testing.T) {
	f := setup(t)
	f.ingest(t, "shop", "orders/create", "wh-1", "oms")
	b := f.browser(t)
	tok := b.login(operatorToken)

	page := b.get("/console/destinations")
	oms := row(t, page.body, "oms")
	if !strings.Contains(oms, `action="/console/destinations/oms/pause"`) || strings.Contains(oms, "/resume") ||
		!strings.Contains(oms, ">active<") || !strings.Contains(oms, ">closed<") {
		t.Fatalf("active oms row:\n%s", oms)
	}

	// The first post asks for confirmation, showing what the pause holds.
	a := b.do(http.MethodPost, "/console/destinations/oms/pause", url.Values{"csrf": {tok}, "reason": {"vendor maintenance"}})
	if a.status != http.StatusOK || !strings.Contains(a.body, "<strong>1</strong> due now") ||
		!strings.Contains(a.body, `name="confirm" value="yes"`) || !strings.Contains(a.body, `value="vendor maintenance"`) {
		t.Fatalf("pause confirmation: %d\n%s", a.status, a.body)
	}
	if st := f.destStatus(t, "oms"); st.Status != store.StatusActive {
		t.Fatalf("the unconfirmed pause changed oms to %s", st.Status)
	}
	a = b.do(http.MethodPost, "/console/destinations/oms/pause", url.Values{"csrf": {csrf(t, a.body)},
		"reason": {"vendor maintenance"}, "confirm": {"yes"}})
	if a.status != http.StatusSeeOther || !strings.HasPrefix(a.header.Get("Location"), "/console/destinations?") {
		t.Fatalf("pause: %d %s\n%s", a.status, a.header.Get("Location"), a.body)
	}
	if st := f.destStatus(t, "oms"); st.Status != store.StatusPaused || st.Reason != "paused by oncall: vendor maintenance" {
		t.Fatalf("after pause the store holds %+v", st)
	}
	if st := f.destStatus(t, "idle"); st.Status != store.StatusActive {
		t.Fatalf("pausing oms changed idle to %s", st.Status)
	}
	page = b.get(a.header.Get("Location"))
	if !strings.Contains(page.body, `id="notice">Destination oms paused`) {
		t.Errorf("no notice after pause:\n%s", page.body)
	}
	oms = row(t, page.body, "oms")
	for _, w := range []string{">paused<", "since " + t0.Format("2006-01-02 15:04:05"), "paused by oncall: vendor maintenance",
		`action="/console/destinations/oms/resume"`, `<td class="num">1 <span class="muted" title="due, held until the destination is resumed">held</span></td>`} {
		if !strings.Contains(oms, w) {
			t.Errorf("paused oms row lacks %q:\n%s", w, oms)
		}
	}
	if strings.Contains(oms, "/pause") {
		t.Errorf("a paused destination offers Pause:\n%s", oms)
	}

	a = b.do(http.MethodPost, "/console/destinations/oms/resume", url.Values{"csrf": {tok}})
	if a.status != http.StatusSeeOther {
		t.Fatalf("resume: %d\n%s", a.status, a.body)
	}
	if st := f.destStatus(t, "oms"); st.Status != store.StatusActive {
		t.Fatalf("after resume the store holds %+v", st)
	}
	if page = b.get(a.header.Get("Location")); !strings.Contains(row(t, page.body, "oms"), ">active<") {
		t.Errorf("resumed oms row:\n%s", row(t, page.body, "oms"))
	}
}

func TestDestinationConflictIsReadable(t *testing.T) {
	f := setup(t)
	b := f.browser(t)
	tok := b.login(operatorToken)
	// Pausing or resuming a disabled destination does not apply: the API
	// answers 409 and the console shows its reason.
	if _, _, err := f.store.DestinationSetStatus(context.Background(), "oms", []string{store.StatusActive},
		store.StatusDisabled, "HTTP 410 Gone", t0); err != nil {
		t.Fatal(err)
	}
	a := b.do(http.MethodPost, "/console/destinations/oms/pause", url.Values{"csrf": {tok}})
	if a.status != http.StatusConflict || !strings.Contains(a.body, "destination oms is disabled; enable it") {
		t.Errorf("pause of a disabled destination: %d\n%s", a.status, a.body)
	}
	// Neither does resuming a disabled one: it needs enable.
	if _, _, err := f.store.DestinationSetStatus(context.Background(), "oms", []string{store.StatusActive},
		store.StatusDisabled, "HTTP 410 Gone", t0); err != nil {
		t.Fatal(err)
	}
	a = b.do(http.MethodPost, "/console/destinations/oms/resume", url.Values{"csrf": {tok}})
	if a.status != http.StatusConflict || !strings.Contains(a.body, "destination oms is disabled; enable it") {
		t.Errorf("resume of a disabled destination: %d\n%s", a.status, a.body)
	}
	if a = b.do(http.MethodPost, "/console/destinations/nowhere/pause", url.Values{"csrf": {tok}}); a.status != http.StatusNotFound {
		t.Errorf("unknown destination: %d\n%s", a.status, a.body)
	}
	if a = b.do(http.MethodPost, "/console/destinations/oms/delete", url.Values{"csrf": {tok}}); a.status != http.StatusNotFound {
		t.Errorf("unknown action: %d\n%s", a.status, a.body)
	}
	if st := f.destStatus(t, "oms"); st.Status != store.StatusDisabled {
		t.Fatalf("refused actions changed oms to %s", st.Status)
	}
}

func TestDisabledDestinationAndBreakerShown(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	if _, _, err := f.store.DestinationSetStatus(ctx, "oms", []string{store.StatusActive},
		store.StatusDisabled, "HTTP 410 Gone", t0.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	until := t0.Add(30 * time.Second)
	if err := f.store.DestinationBreakerOpen(ctx, "idle", until); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.breaker = map[string]string{"idle": "open"}
	f.mu.Unlock()
	b := f.browser(t)
	tok := b.login(adminToken)
	page := b.get("/console/destinations")
	oms, idle := row(t, page.body, "oms"), row(t, page.body, "idle")
	for _, w := range []string{">disabled<", "HTTP 410 Gone", `action="/console/destinations/oms/enable"`} {
		if !strings.Contains(oms, w) {
			t.Errorf("disabled oms row lacks %q:\n%s", w, oms)
		}
	}
	for _, w := range []string{">open<", "until " + until.Format("2006-01-02 15:04:05")} {
		if !strings.Contains(idle, w) {
			t.Errorf("idle row lacks %q:\n%s", w, idle)
		}
	}
	a := b.do(http.MethodPost, "/console/destinations/oms/enable", url.Values{"csrf": {tok}})
	if a.status != http.StatusSeeOther {
		t.Fatalf("enable: %d\n%s", a.status, a.body)
	}
	if st := f.destStatus(t, "oms"); st.Status != store.StatusActive {
		t.Fatalf("after enable the store holds %+v", st)
	}
}

func TestViewerCannotPauseDestination(t *testing.T) {
	f := setup(t)
	b := f.browser(t)
	tok := b.login(viewerToken)
	page := b.get("/console/destinations")
	if page.status != http.StatusOK || !strings.Contains(page.body, `id="dest-oms"`) {
		t.Fatalf("viewer page: %d\n%s", page.status, page.body)
	}
	for _, w := range []string{"/console/destinations/oms/", `class="pause"`, "Actions"} {
		if strings.Contains(page.body, w) {
			t.Errorf("a viewer is offered %q", w)
		}
	}
	// A forged POST with the session's own CSRF token is refused by the API.
	for _, action := range []string{"pause", "resume", "enable"} {
		a := b.do(http.MethodPost, "/console/destinations/oms/"+action, url.Values{"csrf": {tok}})
		if a.status != http.StatusForbidden || !strings.Contains(a.body, "needs operator") {
			t.Errorf("viewer %s: %d\n%s", action, a.status, a.body)
		}
	}
	// Without the CSRF token even an operator is refused before the API.
	op := f.browser(t)
	op.login(operatorToken)
	if a := op.do(http.MethodPost, "/console/destinations/oms/pause", url.Values{}); a.status != http.StatusForbidden {
		t.Errorf("pause without CSRF: %d", a.status)
	}
	if st := f.destStatus(t, "oms"); st.Status != store.StatusActive {
		t.Fatalf("refused posts changed oms to %s", st.Status)
	}
}

// TestDriftPageWhenOff: without drift.enabled the page says so instead of
// failing.
func TestDriftPageWhenOff(t *testing.T) {
	f := setup(t)
	b := f.browser(t)
	b.login(viewerToken)
	page := b.get("/console/drift")
	if page.status != http.StatusOK || !strings.Contains(page.body, `id="off">Schema drift tracking is off`) ||
		!strings.Contains(page.body, `href="/console/drift" class="on"`) {
		t.Fatalf("drift page with tracking off: %d\n%s", page.status, page.body)
	}
}
