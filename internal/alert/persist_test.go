package alert

import (
	"context"
	"encoding/json"
	"github.com/hookyard/hookyard/internal/store/storetest"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/deliver"
	"github.com/hookyard/hookyard/internal/leader"
	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/store/postgres"
)

const growing = "queue-growing/oms"

// pages returns what a Slack-compatible and a PagerDuty-compatible fake
// accepted, as "firing"/"resolved" words for the queue-growing incident.
func pages(t *testing.T, slack, pd *fake) (string, string) {
	t.Helper()
	var s, p []string
	for _, m := range slack.accepted() {
		var sm slackMessage
		json.Unmarshal([]byte(m), &sm)
		switch {
		case !strings.Contains(sm.Text, growing):
			s = append(s, "?"+sm.Text)
		case strings.Contains(sm.Text, "*FIRING*"):
			s = append(s, "firing")
		case strings.Contains(sm.Text, "*RESOLVED*"):
			s = append(s, "resolved")
		}
	}
	for _, m := range pd.accepted() {
		var ev pdEvent
		json.Unmarshal([]byte(m), &ev)
		if ev.DedupKey != "hookyard/"+growing {
			p = append(p, "?"+ev.DedupKey)
			continue
		}
		p = append(p, map[string]string{"trigger": "firing", "resolve": "resolved"}[ev.EventAction])
	}
	return strings.Join(s, " "), strings.Join(p, " ")
}

// restartBench is a node on a SQLite file that can be restarted: the
// store closed and reopened, a new engine with empty memory, the clock
// carried on.
type restartBench struct {
	t           *testing.T
	path        string
	alerts      []config.Alert
	st          store.Store
	b           *bench
	d           *delivery
	depth       int  // the fake queue's depth for oms
	grow        bool // the depth rises every minute
	retry       deliver.Policy
	clockOffset time.Duration
}

func newRestartBench(t *testing.T) (*restartBench, *fake, *fake) {
	slack := newFake(t, func(int, http.ResponseWriter) int { return http.StatusOK })
	pd := newFake(t, func(int, http.ResponseWriter) int { return http.StatusAccepted })
	r := &restartBench{t: t, path: filepath.Join(t.TempDir(), "hookyard.db"),
		alerts: []config.Alert{
			{Name: "oncall", Type: "slack", URL: slack.srv.URL + "/services/T0/B0/XOXB"},
			{Name: "pager", Type: "pagerduty", URL: pd.srv.URL + "/v2/enqueue", RoutingKey: "R0UT1NG"},
		},
		retry: deliver.Policy{MaxAttempts: 10, Initial: 5 * time.Millisecond, Max: 20 * time.Millisecond}}
	// Registered first, so it runs after the delivery engine has stopped.
	t.Cleanup(func() { r.st.Close() })
	r.start()
	return r, slack, pd
}

// start opens the store and a new engine whose clock continues from the
// previous one's.
func (r *restartBench) start() {
	r.st = openStore(r.t, r.path)
	var d *delivery
	r.b = setup(r.t, Config{Alerts: r.alerts, Queue: r.st, State: r.st.(store.KV), Retry: r.retry,
		Wake: func(dest string) { d.eng.Wake(dest) }})
	r.b.now = r.b.now.Add(r.clockOffset)
	d = startDelivery(r.t, r.st, r.b.e)
	r.d = d
}

// restart stops the node for down and starts it again.
func (r *restartBench) restart(down time.Duration) {
	r.t.Helper()
	drained(r.t, r.st)
	r.d.stop()
	if err := r.st.Close(); err != nil {
		r.t.Fatal(err)
	}
	r.clockOffset = r.b.now.Sub(t0) + down
	r.start()
}

func (r *restartBench) run(minutes int) {
	r.b.run(minutes, func(int) {
		if r.grow {
			r.depth += 10
		}
		r.b.q.set(store.QueueStat{Destination: "oms", Due: r.depth})
	})
}

// TestIncidentContinuesAcrossRestart: on a real SQLite file with the real
// delivery engine, an incident whose condition still holds after a
// restart is the same incident (same start, listed at once by the new
// engine), and a Slack-compatible and a PagerDuty-compatible fake get
// exactly one firing and one resolved message for it.
func TestIncidentContinuesAcrossRestart(t *testing.T) {
	r, slack, pd := newRestartBench(t)
	r.grow = true
	r.run(12)
	before, ok := r.b.firing()[growing]
	if !ok {
		t.Fatalf("not firing before the restart: %v", keys(r.b.firing()))
	}

	r.restart(3 * time.Minute)
	r.run(1)
	after, ok := r.b.firing()[growing]
	if !ok || !after.StartedAt.Equal(before.StartedAt) || after.Summary != before.Summary {
		t.Fatalf("after the restart: %+v (ok %v), want the incident started %v", after, ok, before.StartedAt)
	}
	// The queue keeps growing long enough for the new engine's own history
	// to show it: the rule holds again, and it is still the one incident.
	r.run(14)
	if f := r.b.firing(); len(f) != 1 || !f[growing].StartedAt.Equal(before.StartedAt) {
		t.Fatalf("firing after the condition held again: %+v", f)
	}
	if n := strings.Count(r.b.log.String(), "alert firing"); n != 0 {
		t.Errorf("the restarted engine logged %d firings", n)
	}
	r.grow = false
	r.run(11)
	firing, resolved := r.b.e.Alerts()
	if len(firing) != 0 || len(resolved) != 1 || !resolved[0].StartedAt.Equal(before.StartedAt) {
		t.Fatalf("firing %v, resolved %v", firing, resolved)
	}
	drained(t, r.st)
	if s, p := pages(t, slack, pd); s != "firing resolved" || p != "firing resolved" {
		t.Errorf("slack got %q, pagerduty %q; want one firing then one resolved each", s, p)
	}
}

// TestIncidentResolvesAfterRestart: an incident whose condition cleared
// while the node was down is resolved by the restarted node — once, after
// the takeover grace and ResolveAfter — and the resolved incident is
// still listed after a further restart.
func TestIncidentResolvesAfterRestart(t *testing.T) {
	r, slack, pd := newRestartBench(t)
	r.grow = true
	r.run(12)
	before, ok := r.b.firing()[growing]
	if !ok {
		t.Fatalf("not firing before the restart: %v", keys(r.b.firing()))
	}
	r.grow = false
	r.restart(30 * time.Minute)
	// The grace (15m) and ResolveAfter (10m) count from the first tick.
	r.run(25)
	if _, ok := r.b.firing()[growing]; !ok {
		t.Fatal("resolved before the takeover grace and ResolveAfter had passed")
	}
	r.run(1)
	firing, resolved := r.b.e.Alerts()
	if len(firing) != 0 || len(resolved) != 1 || !resolved[0].StartedAt.Equal(before.StartedAt) {
		t.Fatalf("firing %v, resolved %v", firing, resolved)
	}
	r.run(20)
	r.restart(time.Minute)
	r.run(1)
	firing, resolved = r.b.e.Alerts()
	if len(firing) != 0 || len(resolved) != 1 || resolved[0].Key != growing ||
		!resolved[0].ResolvedAt.After(resolved[0].StartedAt) {
		t.Fatalf("after a further restart: firing %v, resolved %v", firing, resolved)
	}
	drained(t, r.st)
	if s, p := pages(t, slack, pd); s != "firing resolved" || p != "firing resolved" {
		t.Errorf("slack got %q, pagerduty %q; want one firing then one resolved each", s, p)
	}
}

// TestIncidentLeaderHandover: two engines on one PostgreSQL database, led
// by the real advisory-lock election. The follower lists the leader's
// incident; when the leader closes, the follower takes over and continues
// the incident (no second firing), then resolves it once.
func TestIncidentLeaderHandover(t *testing.T) {
	dsn, schema := storetest.PostgresDSN(t, "hy_alert_handover")
	ctx := context.Background()

	type node struct {
		st     *postgres.Store
		ld     *leader.Postgres
		b      *bench
		closed bool
	}
	opts := leader.Options{Name: schema, Interval: 50 * time.Millisecond}
	var nodes []*node
	for range 2 {
		st, err := postgres.Open(ctx, dsn, postgres.Config{MaxConns: 4})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		ld, err := leader.NewPostgres(ctx, dsn, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ld.Close() })
		// Notifications are stored (no notifier needs to run: the stored
		// events are what would be sent).
		b := setup(t, Config{Alerts: []config.Alert{{Name: "oncall", Type: "webhook", URL: "http://127.0.0.1:9/unused"}},
			Queue: st, State: st, Leader: ld.IsLeader})
		nodes = append(nodes, &node{st: st, ld: ld, b: b})
	}
	lead, follow := nodes[0], nodes[1]
	if !lead.ld.IsLeader() {
		lead, follow = follow, lead
	}
	if !lead.ld.IsLeader() || follow.ld.IsLeader() {
		t.Fatalf("leaders: %v %v", lead.ld.IsLeader(), follow.ld.IsLeader())
	}
	depth := 0
	tick := func(minutes int, grow bool) {
		t.Helper()
		for range minutes {
			if grow {
				depth += 10
			}
			for _, n := range nodes {
				if n.closed {
					continue
				}
				n.b.now = n.b.now.Add(time.Minute)
				n.b.q.set(store.QueueStat{Destination: "oms", Due: depth})
				if err := n.b.e.Tick(ctx, n.b.now); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	topics := func() []string {
		t.Helper()
		es, _, err := follow.st.EventList(ctx, store.EventFilter{Source: Source})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for i := len(es) - 1; i >= 0; i-- { // oldest first
			out = append(out, es[i].Topic)
		}
		return out
	}

	tick(12, true)
	started, ok := lead.b.firing()[growing]
	if !ok {
		t.Fatalf("the leader is not firing: %v", keys(lead.b.firing()))
	}
	if f := follow.b.firing(); !f[growing].StartedAt.Equal(started.StartedAt) {
		t.Errorf("the follower does not list the leader's incident: %v", f)
	}

	// The leader goes away; the follower takes over with the queue still
	// growing, and later sees it stop.
	lead.ld.Close()
	lead.closed = true
	deadline := time.Now().Add(10 * time.Second)
	for !follow.ld.IsLeader() {
		if time.Now().After(deadline) {
			t.Fatal("the follower never took over")
		}
		time.Sleep(10 * time.Millisecond)
	}
	tick(15, true)
	if f := follow.b.firing(); len(f) != 1 || !f[growing].StartedAt.Equal(started.StartedAt) {
		t.Fatalf("the new leader's incidents: %+v", f)
	}
	if got := strings.Join(topics(), " "); got != "alert.firing" {
		t.Fatalf("stored notifications after the takeover: %q, want the one firing", got)
	}
	tick(11, false)
	if got := strings.Join(topics(), " "); got != "alert.firing alert.resolved" {
		t.Errorf("stored notifications: %q, want one firing and one resolved", got)
	}
}
