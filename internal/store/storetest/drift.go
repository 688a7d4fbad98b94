package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/hookyard/hookyard/internal/store"
)

// RunDrift runs the schema drift suite. Every store implementation must
// pass it; open returns a fresh store, which must implement store.Drift.
func RunDrift(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Drift)
	}{
		{"LearnFreezeDrift", testDriftLearnFreeze},
		{"ConcurrentRecords", testDriftConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			d, ok := s.(store.Drift)
			if !ok {
				t.Fatalf("%T does not implement store.Drift", s)
			}
			tt.fn(t, d)
		})
	}
}

func driftPaths(t *testing.T, s store.Drift, source, topic string) map[string]store.DriftPath {
	t.Helper()
	ps, err := s.DriftPaths(context.Background(), source, topic)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]store.DriftPath{}
	for _, p := range ps {
		out[p.Path+" "+p.Type] = p
	}
	return out
}

func testDriftLearnFreeze(t *testing.T, s store.Drift) {
	ctx := context.Background()
	rec := func(b store.DriftBatch) {
		t.Helper()
		if err := s.DriftRecord(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	rec(store.DriftBatch{Source: "shop", Topic: "orders/create", Events: 2, Paths: []store.DriftCount{
		{Path: ".id", Type: "number", Seen: 2, Example: "evt_1"},
		{Path: ".note", Type: "string", Seen: 1, Example: "evt_2"},
	}})
	rec(store.DriftBatch{Source: "shop", Topic: "orders/create", Events: 1, Paths: []store.DriftCount{
		{Path: ".id", Type: "number", Seen: 1, Example: "evt_3"},
		{Path: ".note", Type: "null", Seen: 1, Example: "evt_3"},
	}})
	rec(store.DriftBatch{Source: "shop", Topic: "refunds/create", Events: 1})

	// Not yet: the automatic freeze waits for its minimum.
	if froze, err := s.DriftFreeze(ctx, "shop", "orders/create", 4, t0); err != nil || froze {
		t.Fatalf("freeze with 3 of 4 events = %v, %v", froze, err)
	}
	if froze, err := s.DriftFreeze(ctx, "shop", "nope", 0, t0); err != nil || froze {
		t.Fatalf("freezing a stream never seen = %v, %v", froze, err)
	}
	ps := driftPaths(t, s, "shop", "orders/create")
	if id := ps[".id number"]; id.Seen != 3 || id.Example != "evt_1" || id.InBaseline {
		t.Fatalf(".id before the freeze = %+v (counts add up, the first example stays)", id)
	}
	if froze, err := s.DriftFreeze(ctx, "shop", "orders/create", 3, t0); err != nil || !froze {
		t.Fatalf("freeze at 3 of 3 events = %v, %v", froze, err)
	}
	if froze, err := s.DriftFreeze(ctx, "shop", "orders/create", 3, t0.Add(1)); err != nil || froze {
		t.Fatalf("the automatic freeze froze a frozen stream again: %v, %v", froze, err)
	}

	// After the freeze: a new path, and an event without .id.
	rec(store.DriftBatch{Source: "shop", Topic: "orders/create", Events: 2, Paths: []store.DriftCount{
		{Path: ".id", Type: "number", Seen: 1, Example: "evt_4"},
		{Path: ".id", Type: "", Missing: 1, MissingExample: "evt_5"},
		{Path: ".tags", Type: "array", Seen: 2, Example: "evt_4"},
	}})
	streams, err := s.DriftStreams(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprint([]store.DriftStream{
		{Source: "shop", Topic: "orders/create", Events: 5, BaselineEvents: 3, FrozenAt: t0},
		{Source: "shop", Topic: "refunds/create", Events: 1},
	})
	if fmt.Sprint(streams) != want {
		t.Fatalf("streams:\n got %v\nwant %s", streams, want)
	}
	ps = driftPaths(t, s, "shop", "orders/create")
	if id := ps[".id number"]; id.Seen != 4 || !id.InBaseline || id.BaselineSeen != 3 {
		t.Errorf(".id = %+v", id)
	}
	if m := ps[".id "]; m.Missing != 1 || m.MissingExample != "evt_5" || m.InBaseline {
		t.Errorf(".id missing = %+v", m)
	}
	if tags := ps[".tags array"]; tags.InBaseline || tags.Seen != 2 || tags.Example != "evt_4" {
		t.Errorf(".tags = %+v", tags)
	}
	if n := ps[".note null"]; !n.InBaseline || n.BaselineSeen != 1 {
		t.Errorf(".note null = %+v", n)
	}

	// The command re-freezes: what drifted joins the baseline, missing counts clear.
	if froze, err := s.DriftFreeze(ctx, "shop", "orders/create", 0, t0.Add(60e9)); err != nil || !froze {
		t.Fatalf("re-freeze = %v, %v", froze, err)
	}
	ps = driftPaths(t, s, "shop", "orders/create")
	if tags := ps[".tags array"]; !tags.InBaseline || tags.BaselineSeen != 2 {
		t.Errorf(".tags after re-freeze = %+v", tags)
	}
	if _, ok := ps[".id "]; ok {
		t.Errorf("missing counts survived the re-freeze: %+v", ps[".id "])
	}
}

// testDriftConcurrent: counts recorded at once (as several nodes do) add up.
func testDriftConcurrent(t *testing.T, s store.Drift) {
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			for j := range 10 {
				errs <- s.DriftRecord(ctx, store.DriftBatch{Source: "shop", Topic: "t", Events: 1, Paths: []store.DriftCount{
					{Path: ".a", Type: "string", Seen: 1, Example: fmt.Sprint("evt_", i, "_", j)},
					{Path: ".b", Type: "number", Seen: 1, Example: fmt.Sprint("evt_", i, "_", j)},
				}})
			}
		})
	}
	go func() { wg.Wait(); close(errs) }()
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	ps := driftPaths(t, s, "shop", "t")
	streams, err := s.DriftStreams(ctx)
	if err != nil || len(streams) != 1 || streams[0].Events != 80 || ps[".a string"].Seen != 80 || ps[".b number"].Seen != 80 {
		t.Fatalf("streams %+v (%v), paths %+v", streams, err, ps)
	}
}
