package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/goleak"

	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/store/postgres"
	"github.com/hookyard/hookyard/internal/store/storetest"
	"github.com/hookyard/hookyard/internal/webhook"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// baseURL returns the test database URL, skipping the test without one.
func baseURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("HOOKYARD_TEST_POSTGRES_URL")
	if u == "" {
		t.Skip("HOOKYARD_TEST_POSTGRES_URL not set: skipping PostgreSQL conformance")
	}
	return u
}

// schemaDSN creates an empty schema for this test, dropped when it ends,
// and returns a DSN whose search_path is that schema: tests run in
// parallel against one database and leave nothing behind.
func schemaDSN(t testing.TB, params ...string) string {
	t.Helper()
	base := baseURL(t)
	var b [6]byte
	rand.Read(b[:])
	schema := "hy_test_" + hex.EncodeToString(b[:])
	admin(t, base, "CREATE SCHEMA "+schema)
	t.Cleanup(func() { admin(t, base, "DROP SCHEMA "+schema+" CASCADE") })
	return withParams(t, base, append([]string{"search_path", schema}, params...)...)
}

// withParams adds key/value connection parameters to a URL or key=value DSN.
func withParams(t testing.TB, dsn string, kv ...string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		for i := 0; i < len(kv); i += 2 {
			q.Set(kv[i], kv[i+1])
		}
		u.RawQuery = q.Encode()
		return u.String()
	}
	for i := 0; i < len(kv); i += 2 {
		dsn += " " + kv[i] + "=" + kv[i+1]
	}
	return dsn
}

// admin runs one statement on its own connection.
func admin(t testing.TB, dsn, sql string, args ...any) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func open(t testing.TB, dsn string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), dsn, postgres.Config{MaxConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// openStore opens a store on a fresh schema.
func openStore(t *testing.T) store.Store {
	s, err := postgres.Open(context.Background(), schemaDSN(t), postgres.Config{MaxConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	baseURL(t)
	t.Parallel()
	storetest.Run(t, openStore)
}

func TestDriftConformance(t *testing.T) {
	baseURL(t)
	t.Parallel()
	storetest.RunDrift(t, openStore)
}

func TestKVConformance(t *testing.T) {
	baseURL(t)
	t.Parallel()
	storetest.RunKV(t, openStore)
}

func TestConsoleSessionsConformance(t *testing.T) {
	baseURL(t)
	t.Parallel()
	storetest.RunConsoleSessions(t, openStore)
}

func TestReconcileConformance(t *testing.T) {
	baseURL(t)
	t.Parallel()
	storetest.RunReconcile(t, openStore)
}

func TestAdminConformance(t *testing.T) {
	baseURL(t)
	t.Parallel()
	storetest.RunAdmin(t, openStore)
}

var t0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

func event(key string) *webhook.Event {
	now := time.Now()
	return &webhook.Event{ID: webhook.NewID("evt_", now), Source: "shop", Provider: "shopify", Topic: "orders/create",
		DedupKey: key, ReceivedAt: t0, Headers: http.Header{"X-Test": {key}}, Body: []byte(`{"key":"` + key + `"}`)}
}

func oms(dest string) []webhook.NewDelivery {
	return []webhook.NewDelivery{{Destination: dest, Route: "r", Priority: webhook.PriorityNormal, MaxAttempts: 5}}
}

// TestConcurrentOpenMigrates starts several nodes on an empty schema at
// once: the advisory lock lets one migrate while the others wait, and each
// migration is applied exactly once.
func TestConcurrentOpenMigrates(t *testing.T) {
	dsn := schemaDSN(t)
	t.Parallel()
	const nodes = 4
	var wg sync.WaitGroup
	errs := make([]error, nodes)
	stores := make([]*postgres.Store, nodes)
	for i := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = postgres.Open(context.Background(), dsn, postgres.Config{MaxConns: 2})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	if err := postgres.Migrate(context.Background(), withParams(t, dsn, "pool_max_conns", "2")); err != nil {
		t.Fatalf("Migrate on a migrated schema: %v", err)
	}
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var rows, versions int
	if err := conn.QueryRow(context.Background(), `SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&rows, &versions); err != nil {
		t.Fatal(err)
	}
	if rows != versions || rows == 0 {
		t.Fatalf("schema_migrations: %d rows for %d versions", rows, versions)
	}
	if _, err := stores[nodes-1].Ingest(context.Background(), event("after-migrate"), oms("oms")); err != nil {
		t.Fatal(err)
	}
}

// TestTwoNodesStoreDuplicateOnce has two stores ("nodes") on one schema
// ingest copies of the same events concurrently, as when a provider's
// retry lands on the other node: each is stored once, and both nodes name
// the stored event.
func TestTwoNodesStoreDuplicateOnce(t *testing.T) {
	dsn := schemaDSN(t)
	t.Parallel()
	nodes := []*postgres.Store{open(t, dsn), open(t, dsn)}
	const keys, copies = 20, 6
	var wg sync.WaitGroup
	var mu sync.Mutex
	ids := map[string]map[string]bool{} // key → event ids reported
	fresh := map[string]int{}
	for k := range keys {
		for c := range copies {
			wg.Add(1)
			go func() {
				defer wg.Done()
				key := fmt.Sprint("dup-", k)
				res, err := nodes[c%2].Ingest(context.Background(), event(key), oms("oms"))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				if ids[key] == nil {
					ids[key] = map[string]bool{}
				}
				ids[key][res.EventID] = true
				if !res.Duplicate {
					fresh[key]++
				}
			}()
		}
	}
	wg.Wait()
	ctx := context.Background()
	for k := range keys {
		key := fmt.Sprint("dup-", k)
		es, _, err := nodes[0].EventList(ctx, store.EventFilter{DedupKey: key})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 1 || fresh[key] != 1 || len(ids[key]) != 1 || !ids[key][es[0].ID] {
			t.Errorf("key %s: %d stored, %d reported new, ids reported %v", key, len(es), fresh[key], ids[key])
		}
	}
	if n, _ := nodes[1].DeliveryCount(ctx, store.DeliveryFilter{}); n != keys {
		t.Fatalf("deliveries = %d, want %d", n, keys)
	}
}

// TestTwoNodesClaimDisjoint drains one queue from two nodes at once: SKIP
// LOCKED hands each delivery to exactly one of them.
func TestTwoNodesClaimDisjoint(t *testing.T) {
	dsn := schemaDSN(t)
	t.Parallel()
	nodes := []*postgres.Store{open(t, dsn), open(t, dsn)}
	const n = 300
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := nodes[i%2].Ingest(context.Background(), event(fmt.Sprint("c", i)), oms("oms")); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	var mu sync.Mutex
	seen := map[string]int{}
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				cs, err := nodes[w%2].DeliveryClaim(context.Background(), store.ClaimParams{Destination: "oms",
					Owner: fmt.Sprint("node", w%2), Limit: 5, Lease: time.Minute, Now: t0.Add(time.Second)})
				if err != nil {
					t.Error(err)
					return
				}
				if len(cs) == 0 {
					return
				}
				mu.Lock()
				for _, c := range cs {
					seen[c.Delivery.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("claimed %d distinct deliveries, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Fatalf("delivery %s claimed %d times", id, c)
		}
	}
}

// waitFor receives from ch until want arrives or the (generous) deadline
// passes; it fails the test only if want never comes.
func waitFor(t *testing.T, ch <-chan string, want string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case got := <-ch:
			if got == want {
				return
			}
		case <-timeout:
			t.Fatalf("no notification %q", want)
		}
	}
}

func listen(t *testing.T, s *postgres.Store) <-chan string {
	ch := make(chan string, 1024)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Listen(ctx, func(d string) { ch <- d }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Listen: %v", err)
		}
	})
	return ch
}

// TestListenWakesOtherNode: an ingest on one node notifies a listener on
// another with the destination that gained work, and a replay does too.
func TestListenWakesOtherNode(t *testing.T) {
	dsn := schemaDSN(t)
	t.Parallel()
	a, b := open(t, dsn), open(t, dsn)
	ch := listen(t, a)
	waitFor(t, ch, "") // listening
	var r [4]byte
	rand.Read(r[:])
	dest := "dest-" + hex.EncodeToString(r[:])
	if _, err := b.Ingest(context.Background(), event("wake"), oms(dest)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ch, dest)

	ctx := context.Background()
	cs, err := b.DeliveryClaim(ctx, store.ClaimParams{Destination: dest, Owner: "b", Limit: 1, Lease: time.Minute, Now: t0})
	if err != nil || len(cs) != 1 {
		t.Fatalf("claim: %v, %v", cs, err)
	}
	c := cs[0].Delivery
	if err := b.DeliveryDead(ctx, c.ID, c.LeaseToken, webhook.Attempt{Number: 1, StatusCode: 400}); err != nil {
		t.Fatal(err)
	}
	if n, err := b.DeliveryReplay(ctx, []string{c.ID}, t0); err != nil || n != 1 {
		t.Fatalf("replay: %d, %v", n, err)
	}
	waitFor(t, ch, dest)
}

// TestReconnect kills every connection of a node, as a PostgreSQL restart
// or an operator's pg_terminate_backend would. The next ingest still
// succeeds (the writer resets the pools and runs its idempotent statement
// again), so do claims and pings after it, and the listener reconnects and
// says so.
func TestReconnect(t *testing.T) {
	var r [4]byte
	rand.Read(r[:])
	app := "hookyard-test-" + hex.EncodeToString(r[:])
	dsn := schemaDSN(t, "application_name", app)
	t.Parallel()
	s := open(t, dsn)
	ch := listen(t, s)
	waitFor(t, ch, "")
	ctx := context.Background()
	if _, err := s.Ingest(ctx, event("before"), oms("oms")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.DeliveryNextDue(ctx, "oms"); err != nil { // opens a queue-pool connection
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, baseURL(t))
	if err != nil {
		t.Fatal(err)
	}
	var killed int
	err = conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = $1`, app).Scan(&killed)
	conn.Close(ctx)
	if err != nil || killed < 3 { // pool, queue pool and listener connections
		t.Fatalf("terminated %d backends: %v", killed, err)
	}

	if _, err := s.Ingest(ctx, event("after"), oms("oms")); err != nil {
		t.Fatalf("first ingest after the kill: %v", err)
	}
	cs, err := s.DeliveryClaim(ctx, store.ClaimParams{Destination: "oms", Owner: "t", Limit: 10, Lease: time.Minute, Now: t0})
	if err != nil || len(cs) != 2 {
		t.Fatalf("claim after the kill: %d claimed, %v", len(cs), err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("ping after the kill: %v", err)
	}
	waitFor(t, ch, "") // the listener reconnected
	if _, err := s.Ingest(ctx, event("wake-after"), oms("after-restart")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ch, "after-restart")
}

// TestOpenUnavailable: a database that cannot be reached is ErrUnavailable.
func TestOpenUnavailable(t *testing.T) {
	baseURL(t)
	t.Parallel()
	_, err := postgres.Open(context.Background(), "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2",
		postgres.Config{})
	if !errors.Is(err, webhook.ErrUnavailable) {
		t.Fatalf("Open: %v, want ErrUnavailable", err)
	}
}

// TestOddText: PostgreSQL text rejects NUL and invalid UTF-8, which SQLite
// stores; the store must still ingest such an event (and dedup it) rather
// than answer 503 for ever.
func TestOddText(t *testing.T) {
	s := open(t, schemaDSN(t))
	t.Parallel()
	ctx := context.Background()
	ev := event("nul\x00and\xffbad")
	ev.Topic = "topic\xc3"
	res, err := s.Ingest(ctx, ev, oms("oms"))
	if err != nil || res.Duplicate {
		t.Fatalf("ingest: %+v, %v", res, err)
	}
	again, err := s.Ingest(ctx, event("nul\x00and\xffbad"), oms("oms"))
	if err != nil || !again.Duplicate || again.EventID != ev.ID {
		t.Fatalf("duplicate: %+v, %v", again, err)
	}
	got, err := s.EventGet(ctx, ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Body) != string(ev.Body) {
		t.Fatalf("body = %q", got.Body)
	}
	if _, err := s.DeliveryGet(ctx, "dlv_\x00"); !errors.Is(err, webhook.ErrNotFound) {
		t.Fatalf("DeliveryGet(odd id): %v, want ErrNotFound", err)
	}
}
