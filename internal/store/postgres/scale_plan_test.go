package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/hookyard/hookyard/internal/store/postgres"
)

// TestRetentionLockPlan checks that retention reaches a batch's deliveries
// by one primary-key range probe per event. Written as a range join
// ordered by id, the same statement got a plan that walked the whole
// deliveries index against every event (146 s for 500 events among a
// million, docs/SCALING.md); this test asserts the shape that avoids it,
// on 50,000 events.
func TestRetentionLockPlan(t *testing.T) {
	dsn := schemaDSN(t)
	open(t, dsn) // applies the migrations
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range []string{
		`INSERT INTO events (id, source, provider, dedup_key, received_at, headers, body)
			SELECT 'evt_' || lpad(i::text, 26, '0'), 'shop', 'shopify', 'k' || i, i, '', '' FROM generate_series(1, 50000) i`,
		`INSERT INTO deliveries (id, event_id, destination, route, state, priority, max_attempts, due_at, ready_at, created_at, updated_at)
			SELECT 'dlv_' || lpad(i::text, 26, '0') || '.0', 'evt_' || lpad(i::text, 26, '0'), 'oms', 'r',
				CASE WHEN i % 100 = 0 THEN 'dead' ELSE 'succeeded' END, 1, 5, i, i, i, i FROM generate_series(1, 50000) i`,
		`ANALYZE events`, `ANALYZE deliveries`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	var ids, los, his []string
	rows, err := conn.Query(ctx, `SELECT id FROM events ORDER BY id LIMIT 500`)
	if err != nil {
		t.Fatal(err)
	}
	ids, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		p := "dlv_" + strings.TrimPrefix(id, "evt_")
		los, his = append(los, p+"."), append(his, p+"/")
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	rows, err = tx.Query(ctx, "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) "+postgres.RetentionLock, ids, los, his)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	plan := strings.Join(lines, "\n")
	t.Logf("retention lock plan:\n%s", plan)
	if !strings.Contains(plan, "Index Scan using deliveries_pkey") || !strings.Contains(plan, "loops=500)") {
		t.Error("the deliveries are not read by one deliveries_pkey probe per event")
	}
	for _, bad := range []string{"Seq Scan on deliveries", "Rows Removed by Join Filter", "Bitmap Heap Scan on deliveries"} {
		if strings.Contains(plan, bad) {
			t.Errorf("plan has %q", bad)
		}
	}
	if !strings.Contains(plan, "rows=500 loops=1") {
		t.Error("the statement did not return one delivery per event")
	}
}

// TestDeadCountPlan checks that the dead-letter count of the queue
// metrics, run on every scrape, reads only the deliveries_dead index
// (destination included by migration 0005), not one heap row per dead
// letter.
func TestDeadCountPlan(t *testing.T) {
	dsn := schemaDSN(t)
	open(t, dsn)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range []string{
		`INSERT INTO deliveries (id, event_id, destination, route, state, priority, max_attempts, due_at, ready_at, created_at, updated_at)
			SELECT 'dlv_' || lpad(i::text, 26, '0') || '.0', 'evt_' || lpad(i::text, 26, '0'), 'd' || (i % 3), 'r',
				CASE WHEN i % 50 = 0 THEN 'dead' ELSE 'succeeded' END, 1, 5, i, i, i, i FROM generate_series(1, 50000) i`,
		`VACUUM ANALYZE deliveries`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := conn.Query(ctx, "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) "+postgres.DeadCountQuery)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	plan := strings.Join(lines, "\n")
	t.Logf("dead count plan:\n%s", plan)
	if !strings.Contains(plan, "Index Only Scan using deliveries_dead") || !strings.Contains(plan, "Heap Fetches: 0") {
		t.Error("the dead-letter count does not read deliveries_dead alone")
	}
}
