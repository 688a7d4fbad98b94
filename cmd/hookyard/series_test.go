package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/alert"
	"github.com/hookyard/hookyard/internal/verify"
	"github.com/hookyard/hookyard/internal/webhook"
)

// TestStatusSeries scripts three minutes of traffic through a real node on
// SQLite — deliveries that succeed (and duplicates), deliveries that fail
// until they are dead, and a backlog that does not move — samples after
// each, and reads the history back from GET /api/v1/status/series.
func TestStatusSeries(t *testing.T) {
	var failing atomic.Bool
	oms := newSink(t, func(int) int {
		if failing.Load() {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	crm := newSink(t, nil)
	crm.block = make(chan struct{}) // set before any request: crm never answers
	n := startNode(t, httpDest("oms", oms.srv.URL, "")+httpDest("crm", crm.srv.URL, ""),
		"  - {source: shop, destination: oms}\n  - {source: stripe, destination: crm}")
	t.Cleanup(func() { close(crm.block) })
	ctx := context.Background()
	e := n.alerts.engine

	base, tick := scriptedMinutes(t, e)
	// The metrics are recorded just after the store's transition: wait
	// for them, not for the state.
	completed := func(state string, want float64) {
		t.Helper()
		key := `hookyard_deliveries_completed_total{destination="oms",state="` + state + `"}`
		for deadline := time.Now().Add(10 * time.Second); scrape(t, n)[key] < want; {
			if time.Now().After(deadline) {
				t.Fatalf("%s never reached %v", key, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	// Minute 1: five delivered, two duplicates.
	for i := range 5 {
		if code, body := status(t, signedRequest(t, n.ingestURL("shop"), orderBody(i), fmt.Sprint("s-", i))); code != 202 {
			t.Fatalf("%d %s", code, body)
		}
	}
	for i := range 2 {
		if code, _ := status(t, signedRequest(t, n.ingestURL("shop"), orderBody(i), fmt.Sprint("s-", i))); code != 200 {
			t.Fatalf("duplicate answered %d", code)
		}
	}
	completed("succeeded", 5)
	tick(1)

	// Minute 2: two more, each failing five times (503) until dead.
	failing.Store(true)
	for i := 5; i < 7; i++ {
		_, body := post(t, n.ingestURL("shop"), orderBody(i), fmt.Sprint("s-", i))
		id, _ := decodeAck(t, body)
		waitState(t, n, id, webhook.StateDead)
	}
	completed("dead", 2)
	tick(2)

	// Minute 3: three events to crm, which never answers: a backlog that
	// does not drain.
	for i := range 3 {
		if code, body := status(t, stripeRequest(t, n.ingestURL("stripe"), i)); code != 202 {
			t.Fatalf("stripe: %d %s", code, body)
		}
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		ds, err := n.client.Destinations(ctx)
		if err != nil {
			t.Fatal(err)
		}
		waiting := 0
		for _, d := range ds.Destinations {
			if d.Name == "crm" {
				waiting = d.Due + d.Scheduled + d.InFlight
			}
		}
		if waiting == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("crm backlog %d, want 3", waiting)
		}
		time.Sleep(10 * time.Millisecond)
	}
	tick(3)

	s, err := n.client.StatusSeries(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Times) != 3 || !s.Times[0].Equal(base.Add(time.Minute)) || !s.Times[2].Equal(base.Add(3*time.Minute)) {
		t.Fatalf("times %v, want the three scripted minutes after %v", s.Times, base)
	}
	if hits := s.DedupHits["shop"]; fmt.Sprint(hits) != "[2 0 0]" {
		t.Errorf("dedup hits of shop %v, want [2 0 0]", hits)
	}
	got := map[string]int{}
	for i, d := range s.Destinations {
		got[d.Destination] = i
	}
	o, c := s.Destinations[got["oms"]], s.Destinations[got["crm"]]
	if o.Destination != "oms" || c.Destination != "crm" {
		t.Fatalf("destinations %+v", s.Destinations)
	}
	if fmt.Sprint(o.Attempts) != "[5 10 0]" || fmt.Sprint(o.Dead) != "[0 2 2]" || fmt.Sprint(o.QueueDepth) != "[0 0 0]" {
		t.Errorf("oms attempts %v dead %v depth %v", o.Attempts, o.Dead, o.QueueDepth)
	}
	if o.SuccessRatio[0] == nil || *o.SuccessRatio[0] != 1 || o.SuccessRatio[1] == nil || *o.SuccessRatio[1] != 0 ||
		o.SuccessRatio[2] != nil {
		t.Errorf("oms success ratio %v", deref(o.SuccessRatio))
	}
	if o.P95Seconds[0] == nil || *o.P95Seconds[0] <= 0 || *o.P95Seconds[0] > 10 || o.P95Seconds[1] != nil {
		t.Errorf("oms p95 %v", deref(o.P95Seconds))
	}
	if f := o.ErrorClasses[webhook.ClassHTTP5xx]; len(o.ErrorClasses) != 1 || fmt.Sprint(f) != "[0 10 0]" {
		t.Errorf("oms error classes %v", o.ErrorClasses)
	}
	if fmt.Sprint(c.Attempts) != "[0 0 0]" || fmt.Sprint(c.QueueDepth) != "[0 0 3]" || fmt.Sprint(c.Stalled) != "[false false true]" ||
		c.TimeToDrainSeconds[2] != nil || c.TimeToDrainSeconds[0] == nil || *c.TimeToDrainSeconds[0] != 0 {
		t.Errorf("crm attempts %v depth %v stalled %v drain %v", c.Attempts, c.QueueDepth, c.Stalled, deref(c.TimeToDrainSeconds))
	}

	// The console's status page draws them: a line for each series, and
	// the stalled minute of crm as a red mark.
	page := consoleGet(t, n, "/console/")
	for _, id := range []string{"spark-oms-success", "spark-oms-p95", "spark-oms-depth", "spark-oms-drain", "spark-oms-errors",
		"spark-crm-depth", "spark-crm-drain", "spark-dedup"} {
		fig := figure(page, id)
		if !strings.Contains(fig, `<path d="M`) {
			t.Errorf("%s has no SVG path:\n%s", id, fig)
		}
	}
	if fig := figure(page, "spark-oms-errors"); !strings.Contains(fig, "5xx 10") || !strings.Contains(fig, "10 in 1h") {
		t.Errorf("error classes sparkline:\n%s", fig)
	}
	if fig := figure(page, "spark-crm-drain"); !strings.Contains(fig, `class="bad"`) || !strings.Contains(fig, "<b>stalled</b>") {
		t.Errorf("stalled crm:\n%s", fig)
	}
	if fig := figure(page, "spark-dedup"); !strings.Contains(fig, "2 in 1h") {
		t.Errorf("dedup sparkline:\n%s", fig)
	}
	if fig := figure(page, "spark-crm-success"); strings.Contains(fig, "<path") || !strings.Contains(fig, "no attempts") {
		t.Errorf("crm made no attempt, yet:\n%s", fig)
	}

	if s, err := n.client.StatusSeries(ctx, 1); err != nil || len(s.Times) != 1 {
		t.Errorf("the last minute: %v, %v", s.Times, err)
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+n.adminAddr+"/api/v1/status/series?minutes=0", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	if code, body := status(t, req); code != http.StatusBadRequest || !strings.Contains(body, "minutes") {
		t.Errorf("minutes=0: %d %s", code, body)
	}
}

// stripeRequest signs a small event as Stripe would.
func stripeRequest(t *testing.T, url string, i int) *http.Request {
	t.Helper()
	body := []byte(fmt.Sprintf(`{"id":"evt_series_%d","type":"invoice.paid","object":"event"}`, i))
	p, _ := verify.Lookup("stripe")
	h, err := p.Sign("whsec_test_0123456789", body, verify.SignOptions{Topic: "invoice.paid", ID: fmt.Sprint("evt_series_", i), Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header = h
	req.Header.Set("Content-Type", "application/json")
	return req
}

func deref(fs []*float64) []any {
	out := make([]any, len(fs))
	for i, f := range fs {
		if f != nil {
			out[i] = *f
		}
	}
	return out
}

// consoleGet logs in to the node's console with the admin token (form,
// CSRF and session cookie, as a browser does) and returns the page at path.
func consoleGet(t *testing.T, n *node, path string) string {
	t.Helper()
	return pageGet(t, consoleLogin(t, n), n, path)
}

// consoleLogin logs in to the node's console with the admin token and
// returns the browser-like client holding the session cookie.
func consoleLogin(t *testing.T, n *node) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	consoleLoginWith(t, hc, n)
	return hc
}

// consoleLoginWith logs hc in to the node's console with the admin token
// (form, CSRF and session cookie, as a browser does) and checks that the
// login was accepted, whether or not hc follows the redirect.
func consoleLoginWith(t *testing.T, hc *http.Client, n *node) {
	t.Helper()
	csrf := csrfOf(t, pageGet(t, hc, n, "/console/login"))
	resp, err := hc.PostForm("http://"+n.adminAddr+"/console/login", url.Values{"csrf": {csrf}, "token": {adminToken}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	redirected := resp.StatusCode == http.StatusSeeOther && resp.Header.Get("Location") == "/console/"
	followed := resp.StatusCode == http.StatusOK && resp.Request.URL.Path == "/console/"
	if !redirected && !followed {
		t.Fatalf("login: %d %s", resp.StatusCode, resp.Request.URL)
	}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrfOf returns the CSRF token of a console page's form.
func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF field in:\n%.500s", page)
	}
	return m[1]
}

// pageGet GETs a console page with hc and fails the test unless it is 200.
func pageGet(t *testing.T, hc *http.Client, n *node, path string) string {
	t.Helper()
	resp, err := hc.Get("http://" + n.adminAddr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", path, resp.StatusCode, b)
	}
	return string(b)
}

// figure returns the <figure> element with id in page, or "".
func figure(page, id string) string {
	i := strings.Index(page, `<figure class="spark" id="`+id+`"`)
	if i < 0 {
		return ""
	}
	j := strings.Index(page[i:], "</figure>")
	return page[i : i+j]
}

// scriptedMinutes waits for the alert engine's first sample (taken as it
// starts) and returns its time and a tick that samples at base plus m
// minutes: a clock of the test's own, so a test scripts minutes of
// history in seconds. (The engine's own next sample comes a real minute
// after the first, later than these tests run.)
func scriptedMinutes(t *testing.T, e *alert.Engine) (base time.Time, tick func(m int)) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); base.IsZero(); {
		if base = e.Sampled(); base.IsZero() {
			if time.Now().After(deadline) {
				t.Fatal("the alert engine never sampled")
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return base, func(m int) {
		t.Helper()
		if err := e.Tick(context.Background(), base.Add(time.Duration(m)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
}
