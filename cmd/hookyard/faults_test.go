package main

// Shared parts of the fault tests: the real hookyard binary run as child
// processes, a destination that applies effects idempotently by key, and a
// ledger of which events were acknowledged. lost = acknowledged − applied.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/hookyard/hookyard/internal/store/storetest"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookyard/hookyard/internal/verify"
)

// buildHookyard builds the real binary into a test directory.
func buildHookyard(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "hookyard")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("build: %v", err)
	}
	return bin
}

// pgSchema gives one test a schema of its own (storetest.PostgresDSN) and
// returns its DSN and a connection on it for inspecting it.
func pgSchema(t *testing.T, prefix string) (string, *pgx.Conn) {
	t.Helper()
	dsn, _ := storetest.PostgresDSN(t, prefix)
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return dsn, conn
}

// child is one hookyard process.
type child struct {
	t        *testing.T
	name     string
	bin, cfg string
	pub, adm string
	log      *os.File
	cmd      *exec.Cmd
	exited   chan struct{}
}

// newChild writes a config for one node: listeners on fresh ports, then
// the rest of the config (storage, sources, destinations, routes) as given.
func newChild(t *testing.T, bin, name, rest string) *child {
	t.Helper()
	dir := t.TempDir()
	c := &child{t: t, name: name, bin: bin, pub: freePort(t), adm: freePort(t)}
	cfg := fmt.Sprintf("server:\n  listen: %s\n  admin_listen: %s\n  shutdown_timeout: 5s\n  allow_private: [127.0.0.1]\n%s", c.pub, c.adm, rest)
	c.cfg = filepath.Join(dir, "hookyard.yaml")
	if err := os.WriteFile(c.cfg, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var err error
	if c.log, err = os.Create(filepath.Join(dir, "hookyard.log")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.stop()
		c.log.Close()
		if t.Failed() {
			b, _ := os.ReadFile(c.log.Name())
			t.Logf("%s log (last 4 KiB):\n%s", c.name, tail(b, 4096))
		}
	})
	return c
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// start runs the process and waits until it is ready.
func (c *child) start() {
	c.t.Helper()
	c.cmd = exec.Command(c.bin, "serve", "--config", c.cfg)
	c.cmd.Stdout, c.cmd.Stderr = c.log, c.log
	if err := c.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	c.exited = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { cmd.Wait(); close(done) }(c.cmd, c.exited)
	waitReady(c.t, "http://"+c.pub+"/readyz")
}

// kill SIGKILLs the process and reaps it.
func (c *child) kill() {
	c.t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		c.t.Fatal(err)
	}
	<-c.exited
}

func (c *child) signal(sig syscall.Signal) {
	c.t.Helper()
	if err := c.cmd.Process.Signal(sig); err != nil {
		c.t.Fatal(err)
	}
}

// stop ends the process gracefully if it still runs (a stopped process is
// continued first so that it can hear SIGTERM).
func (c *child) stop() {
	if c.cmd == nil || c.cmd.Process == nil {
		return
	}
	select {
	case <-c.exited:
		return
	default:
	}
	c.cmd.Process.Signal(syscall.SIGCONT)
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(15 * time.Second):
		c.cmd.Process.Kill()
		<-c.exited
	}
}

// logCount counts the lines of the node's log that contain s.
func (c *child) logCount(s string) int {
	b, _ := os.ReadFile(c.log.Name())
	return strings.Count(string(b), s)
}

// effectSink is a destination that applies each effect once per
// idempotency key, as a careful order system would; repeats are absorbed
// and counted. Paths name destinations, so one sink can serve several.
type effectSink struct {
	srv      *httptest.Server
	mu       sync.Mutex
	applied  map[string]bool           // idempotency keys seen
	effects  map[string]map[int64]int  // path → order id → effects applied
	requests map[string]map[int64]int  // path → order id → requests
	hold     func(r *http.Request) int // if set and non-zero, the status to answer instead (after any wait inside)
	total    atomic.Int64
	repeats  atomic.Int64
}

func newEffectSink(t *testing.T) *effectSink {
	s := &effectSink{applied: map[string]bool{}, effects: map[string]map[int64]int{}, requests: map[string]map[int64]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.total.Add(1)
		var body struct{ ID int64 }
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &body); err != nil {
			http.Error(w, "bad body", 400)
			return
		}
		s.mu.Lock()
		if s.requests[r.URL.Path] == nil {
			s.requests[r.URL.Path] = map[int64]int{}
			s.effects[r.URL.Path] = map[int64]int{}
		}
		s.requests[r.URL.Path][body.ID]++
		hold := s.hold
		s.mu.Unlock()
		if hold != nil {
			if code := hold(r); code != 0 {
				w.WriteHeader(code)
				return
			}
		}
		key := r.Header.Get("Idempotency-Key")
		s.mu.Lock()
		if s.applied[key] {
			s.repeats.Add(1)
		} else {
			s.applied[key] = true
			s.effects[r.URL.Path][body.ID]++
		}
		s.mu.Unlock()
		w.WriteHeader(200)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// missing counts the ids with no effect at path, and the duplicate effects.
func (s *effectSink) missing(path string, ids []int64) (lost, dups int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		if s.effects[path][id] == 0 {
			lost++
		}
	}
	for _, n := range s.effects[path] {
		if n > 1 {
			dups += n - 1
		}
	}
	return lost, dups
}

// waitDelivered waits until every id has an effect at path or the deadline
// passes, and returns lost and duplicate effects.
func (s *effectSink) waitDelivered(path string, ids []int64, deadline time.Time) (lost, dups int) {
	for {
		lost, dups = s.missing(path, ids)
		if lost == 0 || time.Now().After(deadline) {
			return lost, dups
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ledger posts signed Shopify order events until each is acknowledged,
// like a provider retrying, spreading tries over the given nodes, and
// records which ids got a 2xx and every status seen.
type ledger struct {
	mu       sync.Mutex
	acked    map[int64]string // id → event id from the ack
	statuses map[int]int      // HTTP status → count (0: transport error)
	count    atomic.Int64     // acknowledgements received by this ledger
	offset   int64            // event ids start after it
}

func newLedger() *ledger {
	return &ledger{acked: map[int64]string{}, statuses: map[int]int{}}
}

// send posts events offset+1..offset+n with the given number of
// concurrent senders; the try-th attempt of event id goes to targets(id,
// try). It returns when every event was acknowledged or ctx ends.
func (l *ledger) send(ctx context.Context, n, senders int, targets func(id int64, try int) string) {
	next := make(chan int64)
	go func() {
		defer close(next)
		for i := l.offset + 1; i <= l.offset+int64(n); i++ {
			select {
			case next <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for w := 0; w < senders; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range next {
				for try := 0; ctx.Err() == nil; try++ {
					if code := l.post(ctx, id, targets(id, try)); code/100 == 2 {
						break
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
}

// postOnce posts event id to addr once and returns the status (0 for a
// transport error).
func (l *ledger) postOnce(id int64, addr string) int {
	return l.post(context.Background(), id, addr)
}

var ledgerClient = &http.Client{Timeout: 10 * time.Second}

func (l *ledger) post(ctx context.Context, id int64, addr string) int {
	shopify, _ := verify.Lookup("shopify")
	body := []byte(fmt.Sprintf(`{"id":%d,"total_price":"10.00"}`, id))
	h, _ := shopify.Sign(testSecret, body, verify.SignOptions{Topic: "orders/create", ID: fmt.Sprint("wh-", id), Now: time.Now()})
	req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+addr+"/ingest/shop", bytes.NewReader(body))
	req.Header = h
	resp, err := ledgerClient.Do(req)
	code := 0
	var ack struct{ ID string }
	if err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		code = resp.StatusCode
		json.Unmarshal(b, &ack)
	}
	l.mu.Lock()
	l.statuses[code]++
	if code/100 == 2 {
		l.acked[id] = ack.ID
	}
	l.mu.Unlock()
	if code/100 == 2 {
		l.count.Add(1)
	}
	return code
}

func (l *ledger) ids() []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	ids := make([]int64, 0, len(l.acked))
	for id := range l.acked {
		ids = append(ids, id)
	}
	return ids
}

func (l *ledger) statusSummary() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return fmt.Sprint(l.statuses)
}

// waitCount waits until at least n events were acknowledged.
func (l *ledger) waitCount(t *testing.T, n int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for l.count.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d acknowledgements arrived", l.count.Load(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// deliveryStates counts a PostgreSQL cluster's deliveries by state, on a
// fresh connection (a server restart ends older ones).
func deliveryStates(t *testing.T, dsn string) map[string]int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT state, count(*) FROM deliveries GROUP BY state")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			t.Fatal(err)
		}
		m[s] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return m
}

// waitSucceeded waits until all n deliveries of a PostgreSQL cluster have
// succeeded (a delivery whose effect arrived but whose worker died before
// recording it is redelivered after its lease) or the deadline passes, and
// returns the last count by state.
func waitSucceeded(t *testing.T, dsn string, n int, deadline time.Time) map[string]int {
	t.Helper()
	for {
		states := deliveryStates(t, dsn)
		if (states["succeeded"] == n && len(states) == 1) || time.Now().After(deadline) {
			return states
		}
		time.Sleep(250 * time.Millisecond)
	}
}
