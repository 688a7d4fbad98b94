package leader

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestLocalLeadsAndLocksExclusively(t *testing.T) {
	l := NewLocal()
	if !l.IsLeader() {
		t.Fatal("a single node must lead")
	}
	ctx := context.Background()
	unlock, ok, err := l.TryLock(ctx, "reconcile/stripe")
	if err != nil || !ok {
		t.Fatalf("first TryLock = %v, %v", ok, err)
	}
	if _, ok, _ := l.TryLock(ctx, "reconcile/stripe"); ok {
		t.Fatal("second holder of the same name")
	}
	if _, ok, _ := l.TryLock(ctx, "reconcile/shop"); !ok {
		t.Fatal("another name must be free")
	}
	unlock()
	unlock() // harmless
	if _, ok, _ := l.TryLock(ctx, "reconcile/stripe"); !ok {
		t.Fatal("lock not released")
	}
}

func pgURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("HOOKYARD_TEST_POSTGRES_URL")
	if u == "" {
		t.Skip("HOOKYARD_TEST_POSTGRES_URL not set: skipping the PostgreSQL leader tests (.ci/run sets it)")
	}
	return u
}

// eventually polls cond until it holds or the wait runs out.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestPostgresOneLeaderAndFailover(t *testing.T) {
	dsn := pgURL(t)
	ctx := context.Background()
	name := "test/" + t.Name() + time.Now().Format("150405.000000000")
	opt := Options{Name: name, Interval: 100 * time.Millisecond}
	a, err := NewPostgres(ctx, dsn, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := NewPostgres(ctx, dsn, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	c, err := NewPostgres(ctx, dsn, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !a.IsLeader() {
		t.Fatal("the first node did not take the free lead")
	}
	// Over many checks, never more than one leader.
	for range 20 {
		n := 0
		for _, p := range []*Postgres{a, b, c} {
			if p.IsLeader() {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d leaders", n)
		}
		time.Sleep(10 * time.Millisecond)
	}

	// The leader's session is killed by the server (as after a crash or a
	// network cut): it steps down and exactly one other node takes over.
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	var pid uint32
	a.mu.Lock()
	pid = a.conn.PgConn().PID()
	a.mu.Unlock()
	if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend($1)`, pid); err != nil {
		t.Fatal(err)
	}
	eventually(t, "old leader steps down", func() bool { return !a.IsLeader() })
	eventually(t, "a new leader", func() bool { return b.IsLeader() || c.IsLeader() })
	if b.IsLeader() && c.IsLeader() {
		t.Fatal("two leaders after failover")
	}
	// A clean Close hands over too.
	next, other := b, c
	if c.IsLeader() {
		next, other = c, b
	}
	next.Close()
	eventually(t, "leadership after Close", func() bool { return other.IsLeader() || a.IsLeader() })
}

func TestPostgresNamedLocksAcrossNodes(t *testing.T) {
	dsn := pgURL(t)
	ctx := context.Background()
	opt := Options{Name: "test/" + t.Name(), Interval: time.Hour}
	a, err := NewPostgres(ctx, dsn, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := NewPostgres(ctx, dsn, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	name := "reconcile/" + time.Now().Format("150405.000000000")
	unlock, ok, err := a.TryLock(ctx, name)
	if err != nil || !ok {
		t.Fatalf("a.TryLock = %v, %v", ok, err)
	}
	if _, ok, err := a.TryLock(ctx, name); ok || err != nil {
		t.Fatalf("a second holder in the same node: %v, %v", ok, err)
	}
	if _, ok, err := b.TryLock(ctx, name); ok || err != nil {
		t.Fatalf("b took a held lock: %v, %v", ok, err)
	}
	unlock()
	ub, ok, err := b.TryLock(ctx, name)
	if err != nil || !ok {
		t.Fatalf("b after release = %v, %v", ok, err)
	}
	// A holder that goes away releases its locks with its session (the
	// server ends the session just after the client hangs up).
	b.Close()
	ub()
	var ua func()
	eventually(t, "the lock freed by b's session ending", func() bool {
		var err error
		ua, ok, err = a.TryLock(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	})
	ua()
}

// Clusters in different schemas of one server lead and lock independently.
func TestPostgresNamespacesBySchema(t *testing.T) {
	dsn := pgURL(t)
	ctx := context.Background()
	withPath := func(schema string) string {
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		return dsn + sep + "search_path=" + schema
	}
	name := "test/" + t.Name() + time.Now().Format("150405.000000000")
	a, err := NewPostgres(ctx, withPath("cluster_a"), Options{Name: name, Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := NewPostgres(ctx, withPath("cluster_b"), Options{Name: name, Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if !a.IsLeader() || !b.IsLeader() {
		t.Fatalf("leaders: a %v, b %v; want each cluster to have its own", a.IsLeader(), b.IsLeader())
	}
	ua, okA, errA := a.TryLock(ctx, "reconcile/shop")
	ub, okB, errB := b.TryLock(ctx, "reconcile/shop")
	if !okA || !okB || errA != nil || errB != nil {
		t.Fatalf("same lock name in two schemas: %v %v %v %v", okA, okB, errA, errB)
	}
	ua()
	ub()
	c, err := NewPostgres(ctx, withPath("cluster_a"), Options{Name: name, Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.IsLeader() {
		t.Fatal("a second node of cluster_a leads beside the first")
	}
}
