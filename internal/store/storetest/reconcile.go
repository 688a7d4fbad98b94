package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"
)

// RunReconcile runs the conformance tests of store.Reconciles. open must
// return a store that implements it.
func RunReconcile(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store, r store.Reconciles)
	}{
		{"RunSaveGetAndCheckpoint", testRunSave},
		{"RunListNewestFirst", testRunList},
		{"RunUnfinished", testRunUnfinished},
		{"EventKeysStored", testEventKeysStored},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			r, ok := s.(store.Reconciles)
			if !ok {
				t.Fatalf("%T does not implement store.Reconciles", s)
			}
			tt.fn(t, s, r)
		})
	}
}

func run(source string, at time.Time) *store.ReconcileRun {
	return &store.ReconcileRun{ID: webhook.NewID("rec_", at), Source: source, Trigger: "schedule", State: store.RunRunning,
		Since: at.Add(-6 * time.Hour), Until: at, StartedAt: at}
}

func testRunSave(t *testing.T, _ store.Store, rs store.Reconciles) {
	ctx := t.Context()
	r := run("stripe", t0)
	if err := rs.ReconcileRunSave(ctx, r); err != nil {
		t.Fatal(err)
	}
	// A checkpoint replaces counts, cursor and state; the window and start stay.
	r.Listed, r.Matched, r.Missing, r.Backfilled, r.Quarantined, r.Errors = 100, 90, 10, 8, 1, 1
	r.Cursor, r.LastError = "evt_cursor_100", "one failed"
	if err := rs.ReconcileRunSave(ctx, r); err != nil {
		t.Fatal(err)
	}
	r.State, r.FinishedAt = store.RunDone, t0.Add(90*time.Second)
	if err := rs.ReconcileRunSave(ctx, r); err != nil {
		t.Fatal(err)
	}
	got, err := rs.ReconcileRunGet(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got != *r {
		t.Fatalf("got  %+v\nwant %+v", got, *r)
	}
	if got.Duration() != 90*time.Second {
		t.Fatalf("duration %v, want 1m30s", got.Duration())
	}
	if _, err := rs.ReconcileRunGet(ctx, "rec_missing"); !errors.Is(err, webhook.ErrNotFound) {
		t.Fatalf("missing run: %v, want ErrNotFound", err)
	}
}

func testRunList(t *testing.T, _ store.Store, rs store.Reconciles) {
	ctx := t.Context()
	var ids []string
	for i := range 5 {
		src := "stripe"
		if i%2 == 1 {
			src = "github"
		}
		r := run(src, t0.Add(time.Duration(i)*time.Minute))
		ids = append(ids, r.ID)
		if err := rs.ReconcileRunSave(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	all, err := rs.ReconcileRunList(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := runIDs(all); fmt.Sprint(got) != fmt.Sprint([]string{ids[4], ids[3], ids[2], ids[1], ids[0]}) {
		t.Fatalf("all runs %v", got)
	}
	gh, err := rs.ReconcileRunList(ctx, "github", 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := runIDs(gh); fmt.Sprint(got) != fmt.Sprint([]string{ids[3]}) {
		t.Fatalf("github runs, limit 1: %v", got)
	}
}

func runIDs(rs []store.ReconcileRun) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

func testRunUnfinished(t *testing.T, _ store.Store, rs store.Reconciles) {
	ctx := t.Context()
	if _, ok, err := rs.ReconcileRunUnfinished(ctx, "stripe"); err != nil || ok {
		t.Fatalf("empty store: ok %v err %v", ok, err)
	}
	done := run("stripe", t0)
	done.State, done.FinishedAt = store.RunDone, t0.Add(time.Second)
	crashed := run("stripe", t0.Add(time.Minute))
	crashed.Cursor = "page-7"
	other := run("github", t0.Add(2*time.Minute))
	for _, r := range []*store.ReconcileRun{done, crashed, other} {
		if err := rs.ReconcileRunSave(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	got, ok, err := rs.ReconcileRunUnfinished(ctx, "stripe")
	if err != nil || !ok {
		t.Fatalf("ok %v err %v", ok, err)
	}
	if got.ID != crashed.ID || got.Cursor != "page-7" {
		t.Fatalf("unfinished run %s cursor %q, want %s cursor page-7", got.ID, got.Cursor, crashed.ID)
	}
	crashed.State = store.RunFailed
	if err := rs.ReconcileRunSave(ctx, crashed); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := rs.ReconcileRunUnfinished(ctx, "stripe"); err != nil || ok {
		t.Fatalf("after failing it: ok %v err %v", ok, err)
	}
}

func testEventKeysStored(t *testing.T, s store.Store, rs store.Reconciles) {
	ctx := t.Context()
	var keys []string
	for i := range 1200 { // more than one SQLite parameter chunk
		keys = append(keys, fmt.Sprintf("evt_%04d", i))
	}
	for i := 0; i < len(keys); i += 3 {
		mustIngest(t, s, event("stripe", keys[i], t0.Add(time.Duration(i)*time.Millisecond)))
	}
	mustIngest(t, s, event("other", keys[1], t0))
	got, err := rs.EventKeysStored(ctx, "stripe", keys)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 400 {
		t.Fatalf("%d keys stored, want 400", len(got))
	}
	for i, k := range keys {
		if got[k] != (i%3 == 0) {
			t.Fatalf("key %s: stored %v", k, got[k])
		}
	}
	if got, err := rs.EventKeysStored(ctx, "stripe", nil); err != nil || len(got) != 0 {
		t.Fatalf("no keys: %v %v", got, err)
	}
}
