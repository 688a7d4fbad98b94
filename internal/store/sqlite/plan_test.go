package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"
)

// TestListPlans checks that the list statements the console and admin API
// page through read an index in id order: no scan of the whole table, no
// sort. Over a million events a wrong plan cost 70–700 ms a page (see
// docs/BENCHMARKS.md, console).
func TestListPlans(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plan.db")
	s, err := Open(context.Background(), path, Config{}) // applies the migrations
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// No statistics, as the store runs: it never runs ANALYZE, so the
	// planner's defaults decide (with them SQLite took the unique (source,
	// dedup_key) index for a source filter and sorted every row it found).
	cursor := webhook.NewID("evt_", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	dlvCursor := store.DeliveryID(cursor, 0)
	dead := []webhook.State{webhook.StateDead}
	cases := []struct {
		name  string
		sql   string
		args  []any
		index string // the index the plan must use
		// sort allows sorting the rows found: a provider id matches at most
		// one event per source.
		sort bool
	}{
		// sqlite_autoindex_events_1 is the id primary key.
		{name: "events first page", index: "sqlite_autoindex_events_1"},
		{name: "events deep page", index: "sqlite_autoindex_events_1 (id<?)"},
		{name: "events of a source, deep", index: "sqlite_autoindex_events_1 (id<?)"},
		{name: "events by provider id", index: "events_dedup_key (dedup_key=?)", sort: true},
		{name: "dead letters", index: "deliveries_dead"},
		{name: "dead letters of a destination, deep", index: "deliveries_dead"},
	}
	cases[0].sql, cases[0].args = eventListSQL(store.EventFilter{}, 50)
	cases[1].sql, cases[1].args = eventListSQL(store.EventFilter{Cursor: cursor}, 50)
	cases[2].sql, cases[2].args = eventListSQL(store.EventFilter{Source: "shop", Cursor: cursor}, 50)
	cases[3].sql, cases[3].args = eventListSQL(store.EventFilter{DedupKey: "wh-1"}, 50)
	cases[4].sql, cases[4].args = deliveryListSQL(store.DeliveryFilter{States: dead}, 50)
	cases[5].sql, cases[5].args = deliveryListSQL(store.DeliveryFilter{States: dead, Destination: "oms", Cursor: dlvCursor}, 50)
	for _, c := range cases {
		rows, err := db.Query("EXPLAIN QUERY PLAN "+c.sql, c.args...)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		p := strings.Join(plan, "; ")
		if !strings.Contains(p, c.index) || (!c.sort && strings.Contains(p, "TEMP B-TREE")) {
			t.Errorf("%s: plan %q, want a read of %s in order", c.name, p, c.index)
		}
	}
}
