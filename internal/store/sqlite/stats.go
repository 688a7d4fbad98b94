package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"
)

// QueueStats implements store.Store. Live work is counted through the
// claim index (live rows only); dead letters through their partial index.
func (s *Store) QueueStats(ctx context.Context, now time.Time) ([]store.QueueStat, error) {
	qs := store.QueueStats{}
	nowUS := store.Micros(now)
	rows, err := s.rdb.QueryContext(ctx, `SELECT destination, state, due_at <= ?, count(*), min(due_at)
		FROM deliveries INDEXED BY deliveries_claim WHERE state IN ('pending', 'inflight')
		GROUP BY destination, state, due_at <= ?`, nowUS, nowUS)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", webhook.ErrUnavailable, err)
	}
	for rows.Next() {
		var dest, state string
		var due bool
		var n int
		var oldest int64
		if err := rows.Scan(&dest, &state, &due, &n, &oldest); err != nil {
			rows.Close()
			return nil, err
		}
		qs.AddLive(dest, state, due, n, oldest)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = s.rdb.QueryContext(ctx, `SELECT destination, count(*) FROM deliveries INDEXED BY deliveries_dead
		WHERE state = 'dead' GROUP BY destination`)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", webhook.ErrUnavailable, err)
	}
	defer rows.Close()
	for rows.Next() {
		var dest string
		var n int
		if err := rows.Scan(&dest, &n); err != nil {
			return nil, err
		}
		qs.SetDead(dest, n)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return qs.List(), nil
}
