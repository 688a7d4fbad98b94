package drift_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/drift"
	"github.com/hookyard/hookyard/internal/store/sqlite"
	"github.com/hookyard/hookyard/internal/webhook"
)

func TestShape(t *testing.T) {
	tests := []struct {
		name, body string
		max        int
		want       []string
		truncated  bool
	}{
		{"flat", `{"id":1,"email":"a@b","paid":true,"note":null}`, 0,
			[]string{". object", ".id number", ".email string", ".paid boolean", ".note null"}, false},
		{"nested and arrays", `{"customer":{"id":"7"},"items":[{"sku":"A","qty":1},{"sku":"B","tags":["x"]}]}`, 0,
			[]string{". object", ".customer object", ".customer.id string", ".items array", ".items[] object",
				".items[].sku string", ".items[].qty number", ".items[].tags array", ".items[].tags[] string"}, false},
		{"mixed array", `[1,"a",1]`, 0, []string{". array", "[] number", "[] string"}, false},
		{"odd keys", `{"a b":{"0":1}}`, 0, []string{". object", `.["a b"] object`, `.["a b"]["0"] number`}, false},
		{"scalar root", `"x"`, 0, []string{". string"}, false},
		{"bounded", `{"a":1,"b":2,"c":3}`, 2, []string{". object", ".a number"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pairs, truncated, err := drift.Shape([]byte(tt.body), tt.max)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range pairs {
				got = append(got, p.Path+" "+p.Type)
			}
			if !slices.Equal(got, tt.want) || truncated != tt.truncated {
				t.Errorf("got %q (truncated %v)\nwant %q (truncated %v)", got, truncated, tt.want, tt.truncated)
			}
		})
	}
	for _, bad := range []string{`{"a":`, `not json`, `{} {}`, ``} {
		if _, _, err := drift.Shape([]byte(bad), 0); err == nil {
			t.Errorf("Shape(%q) accepted", bad)
		}
	}
}

type counts struct {
	mu      sync.Mutex
	paths   map[string]int
	dropped map[string]int
}

func (c *counts) DriftPaths(source, topic, kind string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.paths[source+" "+topic+" "+kind] = n
}

func (c *counts) DriftDropped(source, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dropped[reason]++
}

func setup(t *testing.T, cfg drift.Config) (*drift.Tracker, *counts) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "hookyard.db"), sqlite.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	obs := &counts{paths: map[string]int{}, dropped: map[string]int{}}
	cfg.Store, cfg.Observer = st, obs
	cfg.FlushEvery = time.Hour // flushed by the test
	return drift.New(cfg), obs
}

// run starts the tracker until the test ends.
func run(t *testing.T, tr *drift.Tracker) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); tr.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

func observe(t *testing.T, tr *drift.Tracker, topic string, bodies ...string) {
	t.Helper()
	for i, b := range bodies {
		tr.Observe(&webhook.Event{ID: fmt.Sprintf("evt_%s_%d", topic, i), Source: "shop", Topic: topic, Body: []byte(b)})
	}
}

// settle flushes until the store holds events events of the stream, and
// returns its report.
func settle(t *testing.T, tr *drift.Tracker, topic string, events int64) drift.Report {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if err := tr.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		rep, err := tr.Report(context.Background(), "shop", topic)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Events >= events {
			return rep
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d events tracked", rep.Events, events)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestTrackerBaselineAndDrift(t *testing.T) {
	tr, obs := setup(t, drift.Config{BaselineAfter: 3})
	run(t, tr)
	base := `{"id":%d,"email":"a@b","total":"9.99","customer":{"id":7}}`
	observe(t, tr, "orders/create", fmt.Sprintf(base, 1), fmt.Sprintf(base, 2), `{"id":3,"email":"a@b","total":"9.99","customer":{"id":7},"note":"x"}`)
	rep := settle(t, tr, "orders/create", 3)
	if !rep.Frozen || rep.BaselineEvents != 3 || len(rep.Changes) != 0 {
		t.Fatalf("after 3 events: %+v", rep)
	}

	// After the freeze: total becomes a number, email goes missing, a new
	// field appears; .note was optional in the baseline, so its absence is
	// not drift.
	for i := range 4 {
		tr.Observe(&webhook.Event{ID: fmt.Sprint("evt_new_", i), Source: "shop", Topic: "orders/create",
			Body: fmt.Appendf(nil, `{"id":%d,"total":9.99,"customer":{"id":7},"gift":{"to":"b"}}`, 10+i)})
	}
	tr.Observe(&webhook.Event{ID: "evt_bad", Source: "shop", Topic: "orders/create", Body: []byte(`not json`)})
	rep = settle(t, tr, "orders/create", 7)
	got := map[string]drift.Change{}
	for _, c := range rep.Changes {
		got[c.Path+" "+c.Kind] = c
	}
	want := map[string]drift.Change{
		".email missing":      {Path: ".email", Kind: "missing", BaselineTypes: []string{"string"}, Count: 4, Example: "evt_new_0"},
		".total type_changed": {Path: ".total", Kind: "type_changed", Type: "number", BaselineTypes: []string{"string"}, Count: 4, Example: "evt_new_0"},
		".gift new":           {Path: ".gift", Kind: "new", Type: "object", Count: 4, Example: "evt_new_0"},
		".gift.to new":        {Path: ".gift.to", Kind: "new", Type: "string", Count: 4, Example: "evt_new_0"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("changes:\n got %v\nwant %v", got, want)
	}
	obs.mu.Lock()
	m := fmt.Sprint(obs.paths["shop orders/create new"], obs.paths["shop orders/create missing"], obs.paths["shop orders/create type_changed"], obs.dropped["not_json"])
	obs.mu.Unlock()
	if m != "2 1 1 1" {
		t.Errorf("metrics new, missing, type_changed, dropped not_json = %s, want 2 1 1 1", m)
	}

	// Freezing on command accepts the new shape.
	ok, err := tr.Freeze(context.Background(), "shop", "orders/create")
	if err != nil || !ok {
		t.Fatalf("freeze = %v, %v", ok, err)
	}
	rep = settle(t, tr, "orders/create", 7)
	if rep.BaselineEvents != 7 || len(rep.Changes) != 0 {
		t.Fatalf("after re-freeze: %+v", rep)
	}
	if ok, err := tr.Freeze(context.Background(), "shop", "never/seen"); err != nil || ok {
		t.Fatalf("freezing an unknown stream = %v, %v", ok, err)
	}
	reps, err := tr.Reports(context.Background(), "", "")
	if err != nil || len(reps) != 1 || reps[0].Paths != 10 {
		t.Fatalf("reports = %+v, %v", reps, err)
	}
}

// TestTrackerLearnsUntilCommand: with baseline_after 0 nothing freezes by
// itself, and drift shows only after the command.
func TestTrackerLearnsUntilCommand(t *testing.T) {
	tr, _ := setup(t, drift.Config{})
	run(t, tr)
	observe(t, tr, "t", `{"a":1}`, `{"a":2}`)
	if rep := settle(t, tr, "t", 2); rep.Frozen || len(rep.Changes) != 0 {
		t.Fatalf("learning: %+v", rep)
	}
	if ok, err := tr.Freeze(context.Background(), "shop", "t"); !ok || err != nil {
		t.Fatalf("freeze = %v, %v", ok, err)
	}
	tr.Observe(&webhook.Event{ID: "evt_x", Source: "shop", Topic: "t", Body: []byte(`{"a":"1"}`)})
	rep := settle(t, tr, "t", 3)
	if len(rep.Changes) != 1 || rep.Changes[0].Kind != drift.KindTypeChanged || rep.Changes[0].Example != "evt_x" {
		t.Fatalf("changes = %+v", rep.Changes)
	}
}

// TestTrackerBounds: a stream tracks at most MaxPaths pairs, a source at
// most MaxTopics topics, and a full queue drops (and counts) instead of
// blocking the caller.
func TestTrackerBounds(t *testing.T) {
	tr, obs := setup(t, drift.Config{MaxPaths: 3, Queue: 2, MaxTopics: 1})
	// Not running yet: the queue holds 2, the third is dropped.
	observe(t, tr, "t", `{"a":1,"b":2,"c":3,"d":4}`, `{"e":5}`, `{"f":6}`)
	obs.mu.Lock()
	dropped := obs.dropped["queue_full"]
	obs.mu.Unlock()
	if dropped != 1 {
		t.Fatalf("dropped = %d, want 1", dropped)
	}
	run(t, tr)
	if rep := settle(t, tr, "t", 2); rep.Paths != 3 {
		t.Fatalf("paths = %d, want 3 (the bound)", rep.Paths)
	}
	observe(t, tr, "another", `{"a":1}`) // a second topic of the source: over MaxTopics
	deadline := time.Now().Add(20 * time.Second)
	for {
		obs.mu.Lock()
		n := obs.dropped["too_many_topics"]
		obs.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("an event of a topic over the bound was not dropped")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if reps, err := tr.Reports(context.Background(), "shop", ""); err != nil || len(reps) != 1 {
		t.Fatalf("reports = %+v, %v", reps, err)
	}
}
