package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookyard/hookyard/internal/verify"
)

// The multi-node fault tests: real hookyard processes sharing one real
// PostgreSQL. Each prints its ledger counts.

// clusterConfig is the storage, source, destinations and routes of a node
// on dsn; every destination posts to sinkURL/<name>.
func clusterConfig(dsn, sinkURL string, timeout string, dests ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "storage:\n  driver: postgres\n  dsn: %q\nsources:\n  - {name: shop, provider: shopify, secrets: [%q]}\ndestinations:\n", dsn, testSecret)
	for _, d := range dests {
		fmt.Fprintf(&b, "  - name: %s\n    type: http\n    url: %s/%s\n    timeout: %s\n    concurrency: 32\n    retry: {max_attempts: 50, initial_interval: 50ms, max_interval: 500ms}\n", d, sinkURL, d, timeout)
	}
	b.WriteString("routes:\n")
	for _, d := range dests {
		fmt.Fprintf(&b, "  - {source: shop, destination: %s}\n", d)
	}
	return b.String()
}

// startCluster starts n nodes on one schema, one after the other (the
// first applies the migrations; later ones find them applied).
func startCluster(t *testing.T, bin string, n int, rest string) []*child {
	nodes := make([]*child, n)
	for i := range nodes {
		nodes[i] = newChild(t, bin, fmt.Sprintf("node%d", i+1), rest)
		nodes[i].start()
	}
	return nodes
}

// leaseOf is the lease a delivery worker takes for a destination timeout
// (deliver: timeout + 30s).
func leaseOf(timeout time.Duration) time.Duration { return timeout + 30*time.Second }

// burstWithFaults sends events from senders across the nodes (a retry goes
// to the next node) and injects fault k, for k below faults, once (k+1)/
// (faults+1) of the events are acknowledged. It returns when the burst ends.
func burstWithFaults(t *testing.T, led *ledger, nodes []*child, events, senders, faults int, fault func(k int)) time.Time {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		led.send(context.Background(), events, senders, func(id int64, try int) string {
			return nodes[(int(id)+try)%len(nodes)].pub
		})
	}()
	for k := range faults {
		led.waitCount(t, int64(events)*int64(k+1)/int64(faults+1))
		fault(k)
	}
	<-done
	return time.Now()
}

// TestClusterKillNoAckedEventLost: three nodes on one PostgreSQL under a
// burst of 20,000 events; nodes are SIGKILLed mid-burst and restarted.
// Every acknowledged event reaches the destination, no effect is applied
// twice, and nothing stays stuck past lease + 30 s after the burst.
func TestClusterKillNoAckedEventLost(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster fault test runs and kills real processes for about a minute; skipped with -short")
	}
	dsn, _ := pgSchema(t, "hy_kill")
	const (
		events  = 20000
		senders = 32
		kills   = 4
		timeout = 2 * time.Second
	)
	bin := buildHookyard(t)
	sk := newEffectSink(t)
	nodes := startCluster(t, bin, 3, clusterConfig(dsn, sk.srv.URL, timeout.String(), "oms"))

	led := newLedger()
	burstEnd := burstWithFaults(t, led, nodes, events, senders, kills, func(k int) {
		n := nodes[k%len(nodes)]
		n.kill()
		n.start()
	})
	ids := led.ids()
	deadline := burstEnd.Add(leaseOf(timeout) + 30*time.Second)
	lost, dups := sk.waitDelivered("/oms", ids, deadline)
	states := waitSucceeded(t, dsn, events, deadline)
	lost, dups = sk.missing("/oms", ids) // after any redelivery
	drained := time.Since(burstEnd)
	summary := fmt.Sprintf("cluster kill test: nodes=3 sent=%d acked=%d kills=%d statuses=%s sink_requests=%d redeliveries_absorbed=%d lost=%d duplicate_effects=%d drain_after_burst=%s states=%v",
		events, len(ids), kills, led.statusSummary(), sk.total.Load(), sk.repeats.Load(), lost, dups, drained.Round(time.Second), states)
	t.Log(summary)
	fmt.Println(summary)
	if len(ids) != events {
		t.Errorf("only %d of %d events were ever acknowledged", len(ids), events)
	}
	if lost != 0 {
		t.Errorf("%d acknowledged events did not reach the destination within lease + 30 s of the burst", lost)
	}
	if dups != 0 {
		t.Errorf("%d effects were applied twice", dups)
	}
	if states["succeeded"] != events || len(states) != 1 {
		t.Errorf("delivery states %v lease + 30 s after the burst, want %d succeeded and nothing else", states, events)
	}
}

// TestClusterSameEventTwoNodes: the same provider event posted to two
// nodes at the same moment is stored once and delivered once to each
// destination; both posts are acknowledged with the same event id.
func TestClusterSameEventTwoNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster fault test runs real processes; skipped with -short")
	}
	dsn, conn := pgSchema(t, "hy_twice")
	const events = 300
	bin := buildHookyard(t)
	sk := newEffectSink(t)
	nodes := startCluster(t, bin, 2, clusterConfig(dsn, sk.srv.URL, "2s", "oms", "erp"))

	shopify, _ := verify.Lookup("shopify")
	client := &http.Client{Timeout: 10 * time.Second}
	post := func(node *child, body []byte, h http.Header) (code int, id string, dup bool) {
		req, _ := http.NewRequest("POST", "http://"+node.pub+"/ingest/shop", bytes.NewReader(body))
		req.Header = h.Clone()
		resp, err := client.Do(req)
		if err != nil {
			return 0, "", false
		}
		defer resp.Body.Close()
		var ack struct {
			ID        string `json:"id"`
			Duplicate bool   `json:"duplicate"`
		}
		b, _ := io.ReadAll(resp.Body)
		json.Unmarshal(b, &ack)
		return resp.StatusCode, ack.ID, ack.Duplicate
	}
	var mu sync.Mutex
	var ids []int64
	var bad []string
	firsts := 0
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := int64(1); i <= events; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(id int64) {
			defer wg.Done()
			defer func() { <-sem }()
			body := []byte(fmt.Sprintf(`{"id":%d,"total_price":"10.00"}`, id))
			h, _ := shopify.Sign(testSecret, body, verify.SignOptions{Topic: "orders/create", ID: fmt.Sprint("wh-", id), Now: time.Now()})
			type result struct {
				code int
				id   string
				dup  bool
			}
			var r [2]result
			gate := make(chan struct{})
			var pair sync.WaitGroup
			for k := range r {
				pair.Add(1)
				go func() {
					defer pair.Done()
					<-gate
					r[k].code, r[k].id, r[k].dup = post(nodes[k], body, h)
				}()
			}
			close(gate)
			pair.Wait()
			mu.Lock()
			defer mu.Unlock()
			switch {
			case r[0].code/100 != 2 || r[1].code/100 != 2:
				bad = append(bad, fmt.Sprintf("event %d: statuses %d and %d", id, r[0].code, r[1].code))
			case r[0].id != r[1].id:
				bad = append(bad, fmt.Sprintf("event %d: two event ids %s and %s", id, r[0].id, r[1].id))
			case r[0].dup == r[1].dup:
				bad = append(bad, fmt.Sprintf("event %d: duplicate flags %v and %v, want exactly one first copy", id, r[0].dup, r[1].dup))
			default:
				ids = append(ids, id)
				if !r[0].dup {
					firsts++
				}
			}
		}(i)
	}
	wg.Wait()
	for _, b := range bad[:min(len(bad), 10)] {
		t.Error(b)
	}
	deadline := time.Now().Add(60 * time.Second)
	lostOMS, dupOMS := sk.waitDelivered("/oms", ids, deadline)
	lostERP, dupERP := sk.waitDelivered("/erp", ids, deadline)
	// Let any second delivery that was going to happen arrive: wait until
	// the cluster reports every delivery finished, then count requests.
	var stored, dels int
	for {
		if err := conn.QueryRow(context.Background(), "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM deliveries WHERE state = 'succeeded')").Scan(&stored, &dels); err != nil {
			t.Fatal(err)
		}
		if dels >= 2*events || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	sk.mu.Lock()
	extra := 0
	for _, path := range []string{"/oms", "/erp"} {
		for _, n := range sk.requests[path] {
			extra += n - 1
		}
	}
	sk.mu.Unlock()
	summary := fmt.Sprintf("same event to two nodes: events=%d posts=%d first_copies_on_node1=%d events_stored=%d deliveries_succeeded=%d lost_oms=%d lost_erp=%d duplicate_effects=%d extra_requests=%d",
		events, 2*events, firsts, stored, dels, lostOMS, lostERP, dupOMS+dupERP, extra)
	t.Log(summary)
	fmt.Println(summary)
	if stored != events {
		t.Errorf("%d events stored, want %d", stored, events)
	}
	if dels != 2*events {
		t.Errorf("%d deliveries succeeded, want %d", dels, 2*events)
	}
	if lostOMS+lostERP != 0 || dupOMS+dupERP != 0 || extra != 0 {
		t.Errorf("lost %d+%d, duplicate effects %d, extra requests %d: want each event delivered once per destination", lostOMS, lostERP, dupOMS+dupERP, extra)
	}
}

// TestClusterPausedNodeFenced: a node that claimed work is paused
// (SIGSTOP) past its lease while its requests are in flight; another node
// claims and delivers the work; when the paused node resumes, its late
// outcomes are rejected by the lease token instead of overwriting the
// new owner's success.
func TestClusterPausedNodeFenced(t *testing.T) {
	if testing.Short() {
		t.Skip("fencing test waits out a lease (about 45 s); skipped with -short")
	}
	dsn, conn := pgSchema(t, "hy_fence")
	const (
		events = 20
		// The timeout must outlast the moment between the paused node's
		// first request and its SIGSTOP, or it would record a (legitimate)
		// timeout before the pause.
		timeout = 10 * time.Second
	)
	bin := buildHookyard(t)
	sk := newEffectSink(t)
	var (
		hmu     sync.Mutex
		paused  bool
		held    int
		heldAll = make(chan struct{})
		release = make(chan struct{})
		once    sync.Once
	)
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	// Before the pause every request comes from node A: hold it until the
	// test releases it, then answer 400 — a permanent failure that would
	// dead-letter the delivery if the late outcome were written. After the
	// pause, requests come from node B and are answered normally.
	sk.hold = func(r *http.Request) int {
		hmu.Lock()
		if paused {
			hmu.Unlock()
			return 0
		}
		held++
		if held == events {
			close(heldAll)
		}
		hmu.Unlock()
		<-release
		return 400
	}
	rest := clusterConfig(dsn, sk.srv.URL, timeout.String(), "oms")
	a := newChild(t, bin, "nodeA", rest)
	a.start()
	led := newLedger()
	led.send(context.Background(), events, 4, func(int64, int) string { return a.pub })
	select {
	case <-heldAll:
	case <-time.After(60 * time.Second):
		t.Fatalf("node A sent only %d of %d requests", held, events)
	}
	a.signal(syscall.SIGSTOP)
	hmu.Lock()
	paused = true
	hmu.Unlock()
	pausedAt := time.Now()

	b := newChild(t, bin, "nodeB", rest)
	b.start()
	ids := led.ids()
	lost, _ := sk.waitDelivered("/oms", ids, pausedAt.Add(leaseOf(timeout)+30*time.Second))
	if lost != 0 {
		t.Fatalf("node B did not take over %d deliveries within lease + 30 s", lost)
	}
	a.signal(syscall.SIGCONT)
	once.Do(func() { close(release) })
	// Node A now learns the outcome of its old attempts (400 or its own
	// timeout) and tries to record it with its old lease tokens.
	deadline := time.Now().Add(60 * time.Second)
	for a.logCount("outcome fenced off") < events && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	fenced := a.logCount("outcome fenced off")
	lost, dups := sk.missing("/oms", ids)
	type row struct {
		state    string
		token    int64
		attempts int
	}
	var rows []row
	rs, err := conn.Query(context.Background(), "SELECT state, lease_token, (SELECT count(*) FROM attempts a WHERE a.delivery_id = d.id) FROM deliveries d")
	if err != nil {
		t.Fatal(err)
	}
	for rs.Next() {
		var r row
		if err := rs.Scan(&r.state, &r.token, &r.attempts); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	bad := 0
	for _, r := range rows {
		// Claimed by A (token 1), then by B (token 2); only B's attempt is
		// recorded.
		if r.state != "succeeded" || r.token != 2 || r.attempts != 1 {
			bad++
			if bad <= 5 {
				t.Errorf("delivery after fencing: state %s, lease token %d, %d attempts recorded; want succeeded, 2, 1", r.state, r.token, r.attempts)
			}
		}
	}
	summary := fmt.Sprintf("paused node test: events=%d held_by_paused_node=%d paused_for=%s late_outcomes_fenced=%d sink_requests=%d lost=%d duplicate_effects=%d deliveries_not_as_owner_B_left_them=%d",
		events, held, time.Since(pausedAt).Round(time.Second), fenced, sk.total.Load(), lost, dups, bad)
	t.Log(summary)
	fmt.Println(summary)
	if len(rows) != events {
		t.Errorf("%d deliveries stored, want %d", len(rows), events)
	}
	if fenced != events {
		t.Errorf("node A logged %d fenced outcomes, want %d", fenced, events)
	}
	if lost != 0 || dups != 0 {
		t.Errorf("lost %d, duplicate effects %d", lost, dups)
	}
}

// TestClusterPostgresRestart restarts the local PostgreSQL server twice
// during a burst against three nodes: ingest answers 5xx while the
// database is away (never 2xx without a commit), the nodes reconnect by
// themselves, and every acknowledged event is delivered. It restarts the
// shared server, so it runs only when HOOKYARD_TEST_PG_RESTART=1 (CI sets
// it) and leaves the server running.
func TestClusterPostgresRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("PostgreSQL restart test; skipped with -short")
	}
	if os.Getenv("HOOKYARD_TEST_PG_RESTART") != "1" {
		t.Skip("HOOKYARD_TEST_PG_RESTART=1 not set: skipping the test that restarts the local PostgreSQL")
	}
	dsn, _ := pgSchema(t, "hy_pgrestart")
	const (
		events   = 20000
		senders  = 32
		restarts = 2
		timeout  = 2 * time.Second
	)
	bin := buildHookyard(t)
	sk := newEffectSink(t)
	nodes := startCluster(t, bin, 3, clusterConfig(dsn, sk.srv.URL, timeout.String(), "oms"))

	led := newLedger()
	burstEnd := burstWithFaults(t, led, nodes, events, senders, restarts, func(int) { restartPostgres(t) })
	for _, n := range nodes {
		waitReady(t, "http://"+n.pub+"/readyz") // the same processes, never restarted
	}
	ids := led.ids()
	deadline := burstEnd.Add(leaseOf(timeout) + 30*time.Second)
	lost, dups := sk.waitDelivered("/oms", ids, deadline)
	states := waitSucceeded(t, dsn, events, deadline)
	lost, dups = sk.missing("/oms", ids) // after any redelivery
	led.mu.Lock()
	fiveXX := 0
	for code, n := range led.statuses {
		if code/100 == 5 {
			fiveXX += n
		}
	}
	led.mu.Unlock()
	summary := fmt.Sprintf("postgres restart test: nodes=3 sent=%d acked=%d restarts=%d statuses=%s lost=%d duplicate_effects=%d redeliveries_absorbed=%d states=%v",
		events, len(ids), restarts, led.statusSummary(), lost, dups, sk.repeats.Load(), states)
	t.Log(summary)
	fmt.Println(summary)
	if len(ids) != events {
		t.Errorf("only %d of %d events were ever acknowledged", len(ids), events)
	}
	if fiveXX == 0 {
		t.Errorf("no 5xx answer during two database outages (statuses %s): the restarts did not interrupt ingest", led.statusSummary())
	}
	if lost != 0 || dups != 0 {
		t.Errorf("lost %d, duplicate effects %d", lost, dups)
	}
	if states["succeeded"] != events || len(states) != 1 {
		t.Errorf("delivery states %v, want %d succeeded and nothing else", states, events)
	}
}

// restartPostgres restarts the local cluster in immediate mode (a crash
// from the clients' point of view) and waits until it accepts connections.
func restartPostgres(t *testing.T) {
	t.Helper()
	versions, err := os.ReadDir("/etc/postgresql")
	if err != nil || len(versions) == 0 {
		t.Fatalf("no local PostgreSQL cluster under /etc/postgresql: %v", err)
	}
	cmd := exec.Command("pg_ctlcluster", "--skip-systemctl-redirect", "-m", "immediate", versions[0].Name(), "main", "restart")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pg_ctlcluster restart: %v\n%s", err, out)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := pgx.Connect(context.Background(), os.Getenv("HOOKYARD_TEST_POSTGRES_URL"))
		if err == nil {
			c.Close(context.Background())
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("PostgreSQL did not come back: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
