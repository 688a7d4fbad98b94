package postgres

import (
	"context"
	"sort"
	"time"

	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"
)

// QueueStats implements store.Store. Live work is counted through the
// claim index (live rows only); dead letters through their partial index.
func (s *Store) QueueStats(ctx context.Context, now time.Time) ([]store.QueueStat, error) {
	byDest := map[string]*store.QueueStat{}
	get := func(d string) *store.QueueStat {
		q := byDest[d]
		if q == nil {
			q = &store.QueueStat{Destination: d}
			byDest[d] = q
		}
		return q
	}
	rows, err := s.pool.Query(ctx, `SELECT destination, state, due_at <= $1, count(*), min(due_at)
		FROM deliveries WHERE state IN ('pending', 'inflight')
		GROUP BY destination, state, due_at <= $1`, micros(now))
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
		q := get(dest)
		switch {
		case state == string(webhook.StateInFlight):
			q.InFlight += n
		case due:
			q.Due += n
			q.OldestDue = fromMicros(oldest)
		default:
			q.Scheduled += n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, s.unavailable("queue stats", err)
	}
	rows, err = s.pool.Query(ctx, `SELECT destination, count(*) FROM deliveries WHERE state = 'dead' GROUP BY destination`)
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
		get(dest).Dead = n
	}
	if err := rows.Err(); err != nil {
		return nil, s.unavailable("queue stats", err)
	}
	out := make([]store.QueueStat, 0, len(byDest))
	for _, q := range byDest {
		out = append(out, *q)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Destination < out[j].Destination })
	return out, nil
}
