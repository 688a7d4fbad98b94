package postgres

import (
	"context"
	"time"

	"github.com/hookyard/hookyard/internal/store"
)

// QueueStats implements store.Store. Live work is counted through the
// claim index (live rows only); dead letters through their partial index.
func (s *Store) QueueStats(ctx context.Context, now time.Time) ([]store.QueueStat, error) {
	qs := store.QueueStats{}
	rows, err := s.pool.Query(ctx, `SELECT destination, state, due_at <= $1, count(*), min(due_at)
		FROM deliveries WHERE state IN ('pending', 'inflight')
		GROUP BY destination, state, due_at <= $1`, store.Micros(now))
	if err != nil {
		return nil, s.unavailable("queue stats", err)
	}
	for rows.Next() {
		var dest, state string
		var due bool
		var n int
		var oldest int64
		if err := rows.Scan(&dest, &state, &due, &n, &oldest); err != nil {
			rows.Close()
			return nil, s.unavailable("queue stats", err)
		}
		qs.AddLive(dest, state, due, n, oldest)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, s.unavailable("queue stats", err)
	}
	rows, err = s.pool.Query(ctx, deadCountQuery)
	if err != nil {
		return nil, s.unavailable("queue stats", err)
	}
	defer rows.Close()
	for rows.Next() {
		var dest string
		var n int
		if err := rows.Scan(&dest, &n); err != nil {
			return nil, s.unavailable("queue stats", err)
		}
		qs.SetDead(dest, n)
	}
	if err := rows.Err(); err != nil {
		return nil, s.unavailable("queue stats", err)
	}
	return qs.List(), nil
}

// deadCountQuery counts dead letters per destination: an index-only scan
// of deliveries_dead (migration 0005), checked by TestDeadCountPlan.
const deadCountQuery = `SELECT destination, count(*) FROM deliveries WHERE state = 'dead' GROUP BY destination`
