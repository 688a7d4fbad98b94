package postgres

import (
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookyard/hookyard/internal/store"
)

var _ store.Destinations = (*Store)(nil)

const destinationSelect = `destination, status, reason, since, failing_since, breaker_open_until`

func scanDestination(row pgx.Row) (store.DestinationState, error) {
	var d store.DestinationState
	var since, failing, open int64
	err := row.Scan(&d.Destination, &d.Status, &d.Reason, &since, &failing, &open)
	d.Since, d.FailingSince, d.BreakerOpenUntil = store.FromMicros(since), store.FromMicros(failing), store.FromMicros(open)
	return d, err
}

// DestinationStates implements store.Destinations.
func (s *Store) DestinationStates(ctx context.Context) ([]store.DestinationState, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+destinationSelect+` FROM destination_state ORDER BY destination`)
	if err != nil {
		return nil, s.unavailable("destination states", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.DestinationState, error) { return scanDestination(r) })
	return out, s.unavailable("destination states", err)
}

// lockDestination runs fn in a transaction holding the destination's row
// lock (the row is created first if missing), so concurrent nodes apply
// their read-modify-writes one after another.
func (s *Store) lockDestination(ctx context.Context, name string, fn func(tx pgx.Tx) error) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO destination_state (destination) VALUES ($1) ON CONFLICT DO NOTHING`, text(name)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT 1 FROM destination_state WHERE destination = $1 FOR UPDATE`, text(name)); err != nil {
			return err
		}
		return fn(tx)
	})
	return s.unavailable("destination "+name, err)
}

// DestinationSetStatus implements store.Destinations.
func (s *Store) DestinationSetStatus(ctx context.Context, name string, from []string, to, reason string, now time.Time) (store.DestinationState, bool, error) {
	var d store.DestinationState
	changed := false
	err := s.lockDestination(ctx, name, func(tx pgx.Tx) error {
		var err error
		d, err = scanDestination(tx.QueryRow(ctx, `SELECT `+destinationSelect+` FROM destination_state WHERE destination = $1`, text(name)))
		if err != nil || !slices.Contains(from, d.Status) {
			return err
		}
		q := `UPDATE destination_state SET status = $1, reason = $2, since = $3 WHERE destination = $4`
		if to == store.StatusActive {
			q = `UPDATE destination_state SET status = $1, reason = $2, since = $3, failing_since = 0, breaker_open_until = 0 WHERE destination = $4`
		}
		if _, err := tx.Exec(ctx, q, to, text(reason), store.Micros(now), text(name)); err != nil {
			return err
		}
		d.Status, d.Reason, d.Since, changed = to, reason, now.UTC(), true
		if to == store.StatusActive {
			d.FailingSince, d.BreakerOpenUntil = time.Time{}, time.Time{}
		}
		return nil
	})
	return d, changed, err
}

// DestinationFailing implements store.Destinations.
func (s *Store) DestinationFailing(ctx context.Context, name string, now time.Time) (time.Time, error) {
	var since int64
	err := s.pool.QueryRow(ctx, `INSERT INTO destination_state (destination, failing_since) VALUES ($1, $2)
		ON CONFLICT (destination) DO UPDATE SET failing_since =
			CASE WHEN destination_state.failing_since = 0 THEN EXCLUDED.failing_since ELSE destination_state.failing_since END
		RETURNING failing_since`, text(name), store.Micros(now)).Scan(&since)
	return store.FromMicros(since), s.unavailable("destination "+name, err)
}

// DestinationRecovered implements store.Destinations.
func (s *Store) DestinationRecovered(ctx context.Context, name string) error {
	_, err := s.pool.Exec(ctx, `UPDATE destination_state SET failing_since = 0 WHERE destination = $1 AND failing_since <> 0`, text(name))
	return s.unavailable("destination "+name, err)
}

// DestinationBreakerOpen implements store.Destinations.
func (s *Store) DestinationBreakerOpen(ctx context.Context, name string, until time.Time) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO destination_state (destination, breaker_open_until) VALUES ($1, $2)
		ON CONFLICT (destination) DO UPDATE SET breaker_open_until = EXCLUDED.breaker_open_until`, text(name), store.Micros(until))
	return s.unavailable("destination "+name, err)
}

// DestinationTakeTokens implements store.Destinations: the bucket row is
// locked for the read-modify-write, so nodes sharing the database share
// one bucket and together never exceed the rate.
func (s *Store) DestinationTakeTokens(ctx context.Context, name string, want int, rate float64, burst int, now time.Time) (int, time.Duration, error) {
	var got int
	var wait time.Duration
	err := s.lockDestination(ctx, name, func(tx pgx.Tx) error {
		var tokens float64
		var at int64
		if err := tx.QueryRow(ctx, `SELECT tokens, tokens_at FROM destination_state WHERE destination = $1`, text(name)).Scan(&tokens, &at); err != nil {
			return err
		}
		var level float64
		level, got, wait = store.Bucket(tokens, store.FromMicros(at), now, want, rate, burst)
		_, err := tx.Exec(ctx, `UPDATE destination_state SET tokens = $1, tokens_at = $2 WHERE destination = $3`,
			level, max(store.Micros(now), at), text(name))
		return err
	})
	return got, wait, err
}

// DestinationReturnTokens implements store.Destinations.
func (s *Store) DestinationReturnTokens(ctx context.Context, name string, n, burst int) error {
	if n <= 0 {
		return nil
	}
	_, err := s.pool.Exec(ctx, `UPDATE destination_state SET tokens = LEAST(tokens + $1, $2) WHERE destination = $3`,
		n, burst, text(name))
	return s.unavailable("destination "+name, err)
}
