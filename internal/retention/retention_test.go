package retention

import (
	"context"
	"fmt"
	"github.com/hookyard/hookyard/internal/store/storetest"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/leader"
	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/store/postgres"
	"github.com/hookyard/hookyard/internal/store/sqlite"
	"github.com/hookyard/hookyard/internal/webhook"
)

var now = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

type fullStore interface {
	store.Store
	store.Retention
	store.Audit
}

// fill stores n finished events received 40 days before now and one
// finished recent event.
func fill(t *testing.T, s store.Store, n int) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i <= n; i++ {
		at := now.Add(-40 * 24 * time.Hour).Add(time.Duration(i) * time.Second)
		if i == n {
			at = now.Add(-time.Hour)
		}
		ev := &webhook.Event{ID: webhook.NewID("evt_", at), Source: "shop", Provider: "shopify", DedupKey: fmt.Sprint("k", i),
			ReceivedAt: at, Headers: http.Header{}, Body: []byte(`{}`)}
		if _, err := s.Ingest(ctx, ev, []webhook.NewDelivery{{Destination: "oms", Route: "r", MaxAttempts: 3}}); err != nil {
			t.Fatal(err)
		}
		cs, err := s.DeliveryClaim(ctx, store.ClaimParams{Destination: "oms", Owner: "t", Limit: 1, Lease: time.Minute, Now: now})
		if err != nil || len(cs) != 1 {
			t.Fatalf("claim: %d %v", len(cs), err)
		}
		a := webhook.Attempt{Number: 1, StartedAt: now, StatusCode: 200}
		if err := s.DeliverySucceed(ctx, cs[0].Delivery.ID, cs[0].Delivery.LeaseToken, a); err != nil {
			t.Fatal(err)
		}
	}
}

func eventCount(t *testing.T, s store.Store) int {
	t.Helper()
	es, _, err := s.EventList(context.Background(), store.EventFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

// counting passes calls through to a real store, counting them, and can
// step its elector down after a number of batches.
type counting struct {
	Store
	calls    atomic.Int32
	stepDown int32 // after this many calls the elector reports false; 0 never
	leading  atomic.Bool
}

func (c *counting) RetentionDelete(ctx context.Context, p store.RetentionParams) (store.RetentionResult, error) {
	if n := c.calls.Add(1); c.stepDown > 0 && n >= c.stepDown {
		c.leading.Store(false)
	}
	return c.Store.RetentionDelete(ctx, p)
}

func (c *counting) IsLeader() bool { return c.leading.Load() }

func openSQLite(t *testing.T) fullStore {
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "h.db"), sqlite.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestOnceDeletesInBatchesOnLeaderOnly(t *testing.T) {
	s := openSQLite(t)
	fill(t, s, 7)
	c := &counting{Store: s}
	j := New(c, c, Config{MaxAge: 30 * 24 * time.Hour, BatchSize: 2, Pause: time.Millisecond, Now: func() time.Time { return now }})

	// A follower deletes nothing.
	res, err := j.Once(context.Background())
	if err != nil || res.Events != 0 || c.calls.Load() != 0 || eventCount(t, s) != 8 {
		t.Fatalf("follower: %+v %v, %d calls, %d events left", res, err, c.calls.Load(), eventCount(t, s))
	}
	// The leader deletes the 7 old events in batches of 2.
	c.leading.Store(true)
	res, err = j.Once(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Events != 7 || res.Deliveries != 7 || res.Attempts != 7 {
		t.Errorf("leader deleted %+v, want 7 events, deliveries and attempts", res)
	}
	if c.calls.Load() != 4 {
		t.Errorf("%d batches for 7 events of 2 per batch, want 4", c.calls.Load())
	}
	if n := eventCount(t, s); n != 1 {
		t.Errorf("%d events left, want the recent one", n)
	}
}

func TestOnceStopsWhenLeadershipIsLost(t *testing.T) {
	s := openSQLite(t)
	fill(t, s, 7)
	c := &counting{Store: s, stepDown: 1}
	c.leading.Store(true)
	j := New(c, c, Config{MaxAge: 30 * 24 * time.Hour, BatchSize: 2, Pause: time.Millisecond, Now: func() time.Time { return now }})
	res, err := j.Once(context.Background())
	if err != nil || res.Events != 2 || c.calls.Load() != 1 {
		t.Fatalf("after stepping down in the first batch: %+v %v, %d calls; want 2 events, 1 call", res, err, c.calls.Load())
	}
	if n := eventCount(t, s); n != 6 {
		t.Errorf("%d events left, want 6", n)
	}
}

// TestTwoNodesOnPostgres: two nodes on one PostgreSQL with real advisory
// lock leadership run the job at once; only the leader deletes, and the
// old events are gone exactly once.
func TestTwoNodesOnPostgres(t *testing.T) {
	dsn, schema := storetest.PostgresDSN(t, "hy_retention")
	ctx := context.Background()
	var stores [2]*postgres.Store
	var nodes [2]*leader.Postgres
	var err error
	opt := leader.Options{Name: "test/retention/" + schema, Interval: 100 * time.Millisecond}
	for i := range stores {
		if stores[i], err = postgres.Open(ctx, dsn, postgres.Config{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { stores[i].Close() })
		if nodes[i], err = leader.NewPostgres(ctx, dsn, opt); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nodes[i].Close() })
	}
	fill(t, stores[0], 7)
	deadline := time.Now().Add(30 * time.Second)
	for !nodes[0].IsLeader() && !nodes[1].IsLeader() {
		if time.Now().After(deadline) {
			t.Fatal("no node took the lead")
		}
		time.Sleep(20 * time.Millisecond)
	}
	var wg sync.WaitGroup
	var results [2]Result
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			j := New(stores[i], nodes[i], Config{MaxAge: 30 * 24 * time.Hour, BatchSize: 3, Pause: time.Millisecond, Now: func() time.Time { return now }})
			var err error
			if results[i], err = j.Once(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	lead := 0
	if nodes[1].IsLeader() {
		lead = 1
	}
	if results[lead].Events != 7 || results[1-lead].Events != 0 {
		t.Errorf("leader deleted %d, follower %d; want 7 and 0", results[lead].Events, results[1-lead].Events)
	}
	if n := eventCount(t, stores[1]); n != 1 {
		t.Errorf("%d events left, want the recent one", n)
	}
}

// TestOncePrunesAuditLog: with audit_max_age set (and event retention
// off), the leader deletes old audit entries in batches and the chain
// still verifies from the anchor; a follower deletes nothing.
func TestOncePrunesAuditLog(t *testing.T) {
	s := openSQLite(t)
	fill(t, s, 2)
	ctx := context.Background()
	for i := range 8 {
		at := now.Add(-400 * 24 * time.Hour).Add(time.Duration(i) * time.Minute)
		if i == 7 {
			at = now.Add(-time.Hour)
		}
		if _, err := s.AuditAppend(ctx, store.AuditEntry{At: at, Actor: "ops", Role: "admin", Action: "POST /api/v1/dlq/replay",
			Outcome: "ok", Status: 200}); err != nil {
			t.Fatal(err)
		}
	}
	cfg := Config{AuditMaxAge: 365 * 24 * time.Hour, BatchSize: 2, Pause: time.Millisecond, Now: func() time.Time { return now }}
	follower := &counting{Store: s}
	if res, err := New(follower, follower, cfg).Once(ctx); err != nil || res.Audit != 0 {
		t.Fatalf("follower run = %+v, %v", res, err)
	}
	leader := &counting{Store: s}
	leader.leading.Store(true)
	res, err := New(leader, leader, cfg).Once(ctx)
	if err != nil || res.Audit != 7 || res.Events != 0 || leader.calls.Load() != 0 {
		t.Fatalf("leader run = %+v (event batches %d), %v; want 7 audit entries and no event retention",
			res, leader.calls.Load(), err)
	}
	if n := eventCount(t, s); n != 3 {
		t.Errorf("%d events left, want all 3 (event retention is off)", n)
	}
	es, _, err := s.AuditList(ctx, store.AuditFilter{Ascending: true})
	if err != nil || len(es) != 1 || es[0].Seq != 8 {
		t.Fatalf("left %+v, %v; want entry 8 only", es, err)
	}
	anchor, err := s.AuditAnchor(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.AuditVerifierFrom(anchor).Add(&es[0]); err != nil {
		t.Errorf("the remaining entry does not continue the anchor %+v: %v", anchor, err)
	}
}
