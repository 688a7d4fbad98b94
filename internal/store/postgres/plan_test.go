package postgres_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/hookyard/hookyard/internal/store/postgres"
)

// TestClaimPlan checks the claim statement's plan where a queue table is
// most likely to get a bad one: right after a burst lands in a table whose
// statistics say it is empty (never analyzed, or analyzed while empty), or
// say it holds only finished work — both as a custom plan (parameters
// known) and as the generic plan PostgreSQL may cache for pgx's prepared
// statement. The plan must read the destination's due work through the
// deliveries_claim partial index, in index order, without a sort.
//
// Findings (PostgreSQL 15, logged by this test; run it with -v -count=8
// to see them vary between runs of the same scenario): left to itself the
// planner reads the claimable rows through deliveries_claim in order in
// most cases, but not all. After a burst (4000 rows) into a never-analyzed
// table or one analyzed while empty, the statement with a tier gap got a
// bitmap scan plus a sort of every due row in 5 of 8 runs; an earlier
// version that filtered tiers with a bit test (estimated at 0.5% of rows)
// got that plan for the ordinary statement too. A tiny table (200 rows)
// analyzed while empty gets sequential scans for the UPDATE's join, the
// ordering-key probe and the events — right for 200 rows, wrong if that
// generic plan stays cached while the table grows, which it does until
// autovacuum analyzes the table. So the store runs claims on a second
// pool whose connections set enable_seqscan and enable_bitmapscan off,
// leaving the ordered index scans as the only plan; this test asserts
// the plan under those settings, and that the queue pool has them.
func TestClaimPlan(t *testing.T) {
	scenarios := []struct {
		name    string
		history int  // finished deliveries present before the burst
		analyze bool // ANALYZE before the burst
		burst   int
	}{
		{name: "burst into a never-analyzed table", burst: 4000},
		{name: "burst after ANALYZE of the empty table", analyze: true, burst: 4000},
		{name: "burst after ANALYZE of finished work", history: 8000, analyze: true, burst: 2000},
		{name: "tiny never-analyzed table", burst: 200},
		{name: "tiny table after ANALYZE of the empty table", analyze: true, burst: 200},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			dsn := schemaDSN(t)
			t.Parallel()
			ctx := context.Background()
			s := open(t, dsn)
			for _, name := range []string{"enable_seqscan", "enable_bitmapscan"} {
				if v, err := postgres.QueueSetting(ctx, s, name); err != nil || v != "off" {
					t.Fatalf("queue pool %s = %q, %v; want off", name, v, err)
				}
			}
			conn, err := pgx.Connect(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			exec := func(sql string) {
				t.Helper()
				if _, err := conn.Exec(ctx, sql); err != nil {
					t.Fatalf("%s: %v", sql, err)
				}
			}
			if sc.history > 0 {
				ingestBurst(t, s, "h", sc.history)
				exec(`UPDATE deliveries SET state = 'succeeded', completed_at = updated_at`)
			}
			if sc.analyze {
				exec(`ANALYZE`)
			}
			ingestBurst(t, s, "b", sc.burst)

			// $1 owner, $2 lease end, $3 now, $4 destination, $5–$6 priority range, $7 limit, $8 priorities excluded.
			args := []any{"w", int64(5e15), int64(4e15), "oms", 0, 2, 16}
			for _, q := range []struct {
				name, sql string
				args      []any
			}{
				{"claim", postgres.ClaimQuery, args},
				{"claim with a tier gap", postgres.ClaimGapQuery, append(args[:7:7], []int32{1})},
			} {
				for _, pinned := range []bool{false, true} {
					if pinned {
						exec(`SET enable_seqscan = off`)
						exec(`SET enable_bitmapscan = off`)
					}
					custom := explain(t, conn, "EXPLAIN "+q.sql, q.args...)
					exec(`SET plan_cache_mode = force_generic_plan`)
					exec(`PREPARE generic_claim AS ` + q.sql)
					lits := make([]string, len(q.args))
					for i, a := range q.args {
						lits[i] = fmt.Sprintf("'%v'", a)
						if p, ok := a.([]int32); ok {
							lits[i] = fmt.Sprintf("ARRAY%v::int[]", strings.ReplaceAll(fmt.Sprint(p), " ", ","))
						}
					}
					generic := explain(t, conn, "EXPLAIN EXECUTE generic_claim("+strings.Join(lits, ", ")+")",
						pgx.QueryExecModeSimpleProtocol)
					exec(`DEALLOCATE generic_claim`)
					exec(`RESET ALL`)
					for _, p := range []struct{ kind, plan string }{{"custom", custom}, {"generic", generic}} {
						name := fmt.Sprintf("%s, %s plan", q.name, p.kind)
						if pinned {
							checkClaimPlan(t, name+" on the queue pool's settings", p.plan)
						} else {
							t.Logf("%s: %s, planner's own choice: %s", sc.name, name, scanOf(p.plan))
						}
					}
				}
			}
		})
	}
}

// scanOf summarizes how a plan reads its tables.
func scanOf(plan string) string {
	scans := regexp.MustCompile(`(Seq Scan|Bitmap Heap Scan|Index Scan using \w+|Index Only Scan using \w+) on \w+ \w+`).
		FindAllString(plan, -1)
	out := strings.Join(scans, "; ")
	if strings.Contains(plan, "Sort Key") {
		out += "; Sort"
	}
	return out
}

func checkClaimPlan(t *testing.T, name, plan string) {
	t.Helper()
	if !strings.Contains(plan, "Index Scan using deliveries_claim on deliveries c") ||
		strings.Contains(plan, "Seq Scan on deliveries") || strings.Contains(plan, "Sort") {
		t.Errorf("%s does not read due work through deliveries_claim in order:\n%s", name, plan)
	}
}

func explain(t *testing.T, conn *pgx.Conn, sql string, args ...any) string {
	t.Helper()
	rows, err := conn.Query(context.Background(), sql, args...)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return strings.Join(lines, "\n")
}

// ingestBurst ingests n events through the store, concurrently, spread
// over four destinations.
func ingestBurst(t *testing.T, s *postgres.Store, prefix string, n int) {
	t.Helper()
	var wg sync.WaitGroup
	for w := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 32 {
				dest := []string{"oms", "crm", "wms", "erp"}[i%4]
				if _, err := s.Ingest(context.Background(), event(fmt.Sprint(prefix, i)), oms(dest)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
