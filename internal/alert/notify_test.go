package alert

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/deliver"
	"github.com/hookyard/hookyard/internal/webhook"
)

// fake is an httptest notifier endpoint that records every request and
// answers with its script's status for the n-th one.
type fake struct {
	srv    *httptest.Server
	mu     sync.Mutex
	bodies []string // accepted (2xx) requests
	seen   int
}

func newFake(t *testing.T, script func(n int, w http.ResponseWriter) int) *fake {
	f := &fake{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		n := f.seen
		f.seen++
		f.mu.Unlock()
		code := script(n, w)
		if code/100 == 2 {
			f.mu.Lock()
			f.bodies = append(f.bodies, string(b))
			f.mu.Unlock()
		}
		w.WriteHeader(code)
		io.WriteString(w, "ok")
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fake) accepted() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.bodies...)
}

// TestNotifiersOnePagePerIncident: a Slack-compatible and a
// PagerDuty-compatible fake each get exactly one firing and one resolved
// message for an incident whose condition flaps, although each fails the
// first message once.
func TestNotifiersOnePagePerIncident(t *testing.T) {
	slack := newFake(t, func(n int, w http.ResponseWriter) int {
		if n == 0 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	pd := newFake(t, func(n int, w http.ResponseWriter) int {
		if n == 0 {
			w.Header().Set("Retry-After", "30")
			return http.StatusTooManyRequests
		}
		return http.StatusAccepted
	})
	b := setup(t, Config{
		SLOs: []config.SLO{{Name: "delivery-success", Objective: "99.0%", Destination: "*"}},
		Alerts: []config.Alert{
			{Name: "oncall", Type: "slack", URL: slack.srv.URL + "/services/T0/B0/XOXB-SECRET"},
			{Name: "pager", Type: "pagerduty", URL: pd.srv.URL + "/v2/enqueue", RoutingKey: "R0UT1NGKEY",
				RunbookBaseURL: "https://wiki.example.com/hookyard/runbooks"},
		},
	})
	// 6h of health, a 10-minute outage, one healthy minute pair that makes
	// the fast pair drop (the 5m window is clean), a 2-minute relapse, then
	// health until the incident resolves.
	outage := func(m int) bool { return (m > 360 && m <= 370) || (m > 376 && m <= 378) }
	key := "slo-success-burn/delivery-success/oms"
	var holds []bool
	b.run(420, func(m int) {
		if outage(m) {
			b.attempts("oms", 0, 100, time.Second, "5xx")
			b.e.Attempted("oms", nil, nil, &webhook.Attempt{ErrorClass: "connection",
				Error: `Post "https://oms.example.com/in?token=DEST-SECRET": connection refused`}, webhook.StatePending)
		} else {
			b.attempts("oms", 100, 0, time.Second, "")
		}
		if m > 360 {
			_, ok := b.e.evaluate(b.now)[key]
			holds = append(holds, ok)
		}
	})
	drops := 0 // true → false transitions: two mean it fell, rose and fell again
	for i := 1; i < len(holds); i++ {
		if holds[i-1] && !holds[i] {
			drops++
		}
	}
	if drops < 2 {
		t.Fatalf("the condition never flapped: %v", holds)
	}
	if n := b.e.Pending(); n != 0 {
		t.Fatalf("%d notifications still queued", n)
	}

	// The outage also trips the 5xx error-class rule: a second incident,
	// with its own pair of messages.
	keys := []string{key, "error-class/oms/5xx"}

	msgs := slack.accepted()
	if len(msgs) != 2*len(keys) || slack.seen != len(msgs)+1 {
		t.Fatalf("slack accepted %d of %d: %q", len(msgs), slack.seen, msgs)
	}
	slackBy := map[string][]string{}
	for _, m := range msgs {
		var sm slackMessage
		if err := json.Unmarshal([]byte(m), &sm); err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if strings.Contains(sm.Text, "alert `"+k+"`") {
				slackBy[k] = append(slackBy[k], sm.Text)
			}
		}
	}
	for _, k := range keys {
		got := slackBy[k]
		if len(got) != 2 || !strings.Contains(got[0], "*FIRING*") || !strings.Contains(got[1], "*RESOLVED*") {
			t.Errorf("slack messages for %s: %q", k, got)
		}
	}
	fire := slackBy[key][0]
	for _, want := range []string{"*FIRING* (critical)", "SLO delivery-success", "to oms", "fast burn",
		"<" + DefaultRunbookBase + "#success-dropped|success-dropped>", "5xx: HTTP 503 Service Unavailable", key} {
		if !strings.Contains(fire, want) {
			t.Errorf("firing message lacks %q:\n%s", want, fire)
		}
	}

	events := pd.accepted()
	if len(events) != 2*len(keys) || pd.seen != len(events)+1 {
		t.Fatalf("pagerduty accepted %d of %d: %q", len(events), pd.seen, events)
	}
	pdBy := map[string][]pdEvent{}
	for _, m := range events {
		var ev pdEvent
		if err := json.Unmarshal([]byte(m), &ev); err != nil {
			t.Fatal(err)
		}
		pdBy[ev.DedupKey] = append(pdBy[ev.DedupKey], ev)
	}
	for _, k := range keys {
		got := pdBy["hookyard/"+k]
		if len(got) != 2 || got[0].EventAction != "trigger" || got[1].EventAction != "resolve" ||
			got[0].RoutingKey != "R0UT1NGKEY" || got[1].RoutingKey != "R0UT1NGKEY" || got[1].Payload != nil {
			t.Errorf("pagerduty events for %s: %+v", k, got)
		}
	}
	trig := pdBy["hookyard/"+key][0]
	if trig.Payload == nil || trig.Payload.Severity != "critical" || trig.Payload.Component != "oms" ||
		len(trig.Links) != 1 || trig.Links[0].Href != "https://wiki.example.com/hookyard/runbooks#success-dropped" {
		t.Errorf("trigger payload %+v links %+v", trig.Payload, trig.Links)
	}

	// Nothing secret reached the messages or the log.
	all := strings.Join(append(msgs, events...), "\n") + b.log.String()
	for _, secret := range []string{"DEST-SECRET", "XOXB-SECRET"} {
		if strings.Contains(all, secret) {
			t.Errorf("%q leaked", secret)
		}
	}
	if strings.Contains(b.log.String(), "R0UT1NGKEY") {
		t.Error("routing key logged")
	}
	if !strings.Contains(b.log.String(), "alert notification failed; will retry") {
		t.Errorf("the failed send is not logged:\n%s", b.log.String())
	}
	// The 429's Retry-After (30s) is a floor on the wait.
	if !strings.Contains(b.log.String(), "retry_in=30s") {
		t.Errorf("Retry-After not honoured:\n%s", b.log.String())
	}
}

// TestNotifierGivesUp: a permanent answer drops the notification at once;
// a notifier that keeps failing is dropped after the retry budget, and
// neither blocks the other incidents.
func TestNotifierGivesUp(t *testing.T) {
	gone := newFake(t, func(int, http.ResponseWriter) int { return http.StatusNotFound })
	down := newFake(t, func(int, http.ResponseWriter) int { return http.StatusBadGateway })
	b := setup(t, Config{Alerts: []config.Alert{
		{Name: "gone", Type: "webhook", URL: gone.srv.URL},
		{Name: "down", Type: "webhook", URL: down.srv.URL},
	}})
	b.e.cfg.Retry.MaxAttempts = 3
	for _, ob := range b.e.outboxes {
		ob.policy.MaxAttempts = 3
	}
	b.e.Event(EventBreakerOpened, "oms", "")
	b.run(30, nil)
	if gone.seen != 1 || down.seen != 3 || b.e.Pending() != 0 {
		t.Errorf("gone saw %d, down saw %d, pending %d", gone.seen, down.seen, b.e.Pending())
	}
	if strings.Count(b.log.String(), "alert notification dropped") != 2 {
		t.Errorf("log:\n%s", b.log.String())
	}
}

// TestOrderPerIncident: a resolved message waits behind its firing one.
func TestOrderPerIncident(t *testing.T) {
	var order []string
	ob := &outbox{name: "x", policy: b0Policy(), rand: func() float64 { return 0 }, log: discard(), wake: make(chan struct{}, 1)}
	fail := true
	ob.send = func(_ context.Context, in *Incident, _ time.Time) error {
		if in.Key == "a" && in.State == StateFiring && fail {
			fail = false
			return fmt.Errorf("down")
		}
		order = append(order, in.Key+":"+in.State)
		return nil
	}
	ob.enqueue(Incident{Key: "a", State: StateFiring})
	ob.enqueue(Incident{Key: "b", State: StateFiring})
	ob.enqueue(Incident{Key: "a", State: StateResolved})
	next := ob.deliverDue(context.Background(), t0)
	if strings.Join(order, " ") != "b:firing" || next != t0.Add(time.Second) {
		t.Fatalf("order %v next %v", order, next)
	}
	ob.deliverDue(context.Background(), next)
	if strings.Join(order, " ") != "b:firing a:firing a:resolved" {
		t.Errorf("order %v", order)
	}
}

func TestWebhookMessage(t *testing.T) {
	var got webhookMessage
	var idem, auth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewDecoder(r.Body).Decode(&got)
		idem, auth = r.Header.Get("Idempotency-Key"), r.Header.Get("Authorization")
	}))
	defer srv.Close()
	send := webhookSender(srv.Client(), srv.URL, map[string]string{"Authorization": "Bearer tok"})
	in := &Incident{Key: "dlq-growing/oms", Rule: "dlq-growing", Severity: "warning", Subject: "oms", State: StateFiring,
		Summary: "dead-letter queue of oms grew", Facts: []Fact{{"dead letters", "3"}}, RunbookURL: "https://r#dlq-growing",
		StartedAt: t0}
	if err := send(context.Background(), in, t0); err != nil {
		t.Fatal(err)
	}
	if got.Version != 1 || got.Status != "firing" || got.Key != in.Key || len(got.Facts) != 1 || !got.StartedAt.Equal(t0) ||
		!got.ResolvedAt.IsZero() {
		t.Errorf("message %+v", got)
	}
	if auth != "Bearer tok" || idem != fmt.Sprintf("hookyard-alert/dlq-growing/oms/firing/%d", t0.Unix()) {
		t.Errorf("headers: %q %q", auth, idem)
	}
}

// TestEmail sends through a minimal SMTP server: the message threads
// resolved under firing, and a 5xx reply is permanent.
func TestEmail(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	type mail struct {
		from string
		to   []string
		data string
	}
	got := make(chan mail, 4)
	var reject atomic.Bool
	var wg sync.WaitGroup
	defer func() {
		ln.Close()
		wg.Wait()
	}()
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			serveSMTP(c, reject.Load(), func(from string, to []string, data string) { got <- mail{from, to, data} })
		}
	})
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	p, _ := strconv.Atoi(port)
	c := config.SMTP{Host: host, Port: p, From: "hookyard@example.com", To: []string{"oncall@example.com", "ops@example.com"}}
	send := emailSender(c)
	in := &Incident{Key: "breaker-open/oms", Severity: "warning", Summary: "circuit breaker for oms is open",
		State: StateFiring, StartedAt: t0, RunbookURL: DefaultRunbookBase + "#breaker-open", ErrorSamples: []string{"5xx: HTTP 502"}}
	if err := send(context.Background(), in, t0); err != nil {
		t.Fatal(err)
	}
	m := <-got
	if m.from != "hookyard@example.com" || len(m.to) != 2 {
		t.Errorf("envelope %+v", m)
	}
	for _, want := range []string{"Subject: [hookyard FIRING] warning: circuit breaker for oms is open\r\n",
		"Message-ID: <", ".firing@hookyard>", "Runbook: " + DefaultRunbookBase + "#breaker-open", "  5xx: HTTP 502"} {
		if !strings.Contains(m.data, want) {
			t.Errorf("message lacks %q:\n%s", want, m.data)
		}
	}
	firingID := messageID(in, StateFiring)
	in.State, in.ResolvedAt = StateResolved, t0.Add(7*time.Minute)
	if err := send(context.Background(), in, in.ResolvedAt); err != nil {
		t.Fatal(err)
	}
	m = <-got
	if !strings.Contains(m.data, "In-Reply-To: "+firingID) || !strings.Contains(m.data, "(after 7m0s)") {
		t.Errorf("resolved message:\n%s", m.data)
	}
	reject.Store(true)
	err = send(context.Background(), in, t0)
	if err == nil || !strings.Contains(err.Error(), "550") || !isPermanent(err) {
		t.Errorf("err = %v", err)
	}
}

// serveSMTP answers one SMTP session: just enough of RFC 5321 for
// net/smtp, without STARTTLS or AUTH.
func serveSMTP(c net.Conn, reject bool, accept func(from string, to []string, data string)) {
	defer c.Close()
	r := bufio.NewReader(c)
	say := func(s string) { io.WriteString(c, s+"\r\n") }
	say("220 test ESMTP")
	var from string
	var to []string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250-test\r\n250 8BITMIME")
		case strings.HasPrefix(cmd, "MAIL FROM:"):
			if reject {
				say("550 5.7.1 sender rejected")
				continue
			}
			from, _, _ = strings.Cut(strings.TrimPrefix(strings.TrimSpace(line)[10:], "<"), ">")
			say("250 ok")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			rcpt, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimSpace(line)[8:], "<"), ">")
			to = append(to, rcpt)
			say("250 ok")
		case cmd == "DATA":
			say("354 go ahead")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(l)
			}
			accept(from, to, b.String())
			say("250 queued")
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("250 ok")
		}
	}
}

func b0Policy() deliver.Policy {
	return deliver.Policy{MaxAttempts: 5, Initial: time.Second, Max: time.Minute}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func isPermanent(err error) bool { return deliver.IsPermanent(err) }
