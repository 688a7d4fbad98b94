package reconcile_test

import (
	"context"
	"errors"
	"github.com/hookyard/hookyard/internal/store/storetest"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/leader"
	"github.com/hookyard/hookyard/internal/reconcile"
	"github.com/hookyard/hookyard/internal/reconcile/reconciletest"
	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/store/postgres"
	"github.com/hookyard/hookyard/internal/webhook"
)

// pgSchema creates an empty schema dropped after the test and returns a
// DSN using it.
func pgSchema(t *testing.T) string {
	t.Helper()
	dsn, _ := storetest.PostgresDSN(t, "hy_reconcile")
	return dsn
}

// TestClusterOneRunPerSourceAndResume: two nodes on one PostgreSQL
// database. While node A runs a source, node B can neither start nor
// resume it; when a node dies mid-run, the other resumes its run.
func TestClusterOneRunPerSourceAndResume(t *testing.T) {
	dsn := pgSchema(t)
	ctx := context.Background()
	st, err := postgres.Open(ctx, dsn, postgres.Config{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	nodes := make([]*leader.Postgres, 2)
	for i := range nodes {
		if nodes[i], err = leader.NewPostgres(ctx, dsn, leader.Options{Interval: 50 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		defer nodes[i].Close()
	}
	api := reconciletest.NewStripe(t, "rk_test_key", stripeEvents(t, st, 120, map[int]bool{7: true, 70: true}))
	api.Gate, api.GateAfter = make(chan struct{}), ""
	var sleeps []time.Duration
	runner := func(n *leader.Postgres, at time.Time) *reconcile.Runner {
		return reconcile.New(reconcile.Config{Sources: []reconcile.Source{stripeSource(api, &sleeps)}, Store: st,
			Router: oneRoute{}, Locker: n, Now: func() time.Time { return at }})
	}
	a, b := runner(nodes[0], t0), runner(nodes[1], t0)
	if _, err := a.Start(ctx, "stripe", t0.Add(-time.Hour), t0, reconcile.TriggerManual); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Run(ctx, "stripe", t0.Add(-time.Hour), t0, reconcile.TriggerManual); !errors.Is(err, reconcile.ErrBusy) {
		t.Fatalf("node B while A runs: %v, want ErrBusy", err)
	}
	b.Tick(ctx) // must not resume A's run, which is alive
	close(api.Gate)
	a.Wait()
	runs, err := st.ReconcileRunList(ctx, "stripe", 10)
	if err != nil || len(runs) != 1 || runs[0].State != store.RunDone || runs[0].Backfilled != 2 || runs[0].Listed != 120 {
		t.Fatalf("runs %+v %v", runs, err)
	}

	// A node died mid-run: its row is still running with a checkpoint.
	crashed := &store.ReconcileRun{ID: webhook.NewID("rec_", t0.Add(time.Minute)), Source: "stripe",
		Trigger: reconcile.TriggerSchedule, State: store.RunRunning, Since: t0.Add(-time.Hour), Until: t0,
		StartedAt: t0.Add(time.Minute), Listed: 100, Matched: 100, Cursor: "evt_000020"}
	if err := st.ReconcileRunSave(ctx, crashed); err != nil {
		t.Fatal(err)
	}
	b.Tick(ctx)
	got, err := st.ReconcileRunGet(ctx, crashed.ID)
	if err != nil {
		t.Fatal(err)
	}
	// The remaining 20 events (evt_000000…evt_000019) were all matched
	// except evt_000007, which the first run already backfilled.
	if got.State != store.RunDone || got.Listed != 120 || got.Matched != 120 || got.Backfilled != 0 {
		t.Fatalf("resumed run %+v", got)
	}
}
