package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/hookyard/hookyard/internal/store"
)

var _ store.Destinations = (*Store)(nil)

const destinationSelect = `destination, status, reason, since, failing_since, breaker_open_until`

func scanDestination(row interface{ Scan(...any) error }) (store.DestinationState, error) {
	var d store.DestinationState
	var since, failing, open int64
	err := row.Scan(&d.Destination, &d.Status, &d.Reason, &since, &failing, &open)
	d.Since, d.FailingSince, d.BreakerOpenUntil = store.FromMicros(since), store.FromMicros(failing), store.FromMicros(open)
	return d, err
}

// DestinationStates implements store.Destinations.
func (s *Store) DestinationStates(ctx context.Context) ([]store.DestinationState, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+destinationSelect+` FROM destination_state ORDER BY destination`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.DestinationState
	for rows.Next() {
		d, err := scanDestination(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// ensureDestination creates the destination's row if it has none (inside
// the writer's transaction).
func (s *Store) ensureDestination(ctx context.Context, name string) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO destination_state (destination) VALUES (?) ON CONFLICT DO NOTHING`, name)
	return err
}

// DestinationSetStatus implements store.Destinations.
func (s *Store) DestinationSetStatus(ctx context.Context, name string, from []string, to, reason string, now time.Time) (store.DestinationState, bool, error) {
	var d store.DestinationState
	changed := false
	err := s.write(ctx, 64, func(ctx context.Context) error {
		if err := s.ensureDestination(ctx, name); err != nil {
			return err
		}
		var err error
		d, err = scanDestination(s.w.QueryRowContext(ctx, `SELECT `+destinationSelect+` FROM destination_state WHERE destination = ?`, name))
		if err != nil || !slices.Contains(from, d.Status) {
			return err
		}
		q := `UPDATE destination_state SET status = ?, reason = ?, since = ? WHERE destination = ?`
		if to == store.StatusActive {
			q = `UPDATE destination_state SET status = ?, reason = ?, since = ?, failing_since = 0, breaker_open_until = 0 WHERE destination = ?`
		}
		if _, err := s.w.ExecContext(ctx, q, to, reason, store.Micros(now), name); err != nil {
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
	err := s.write(ctx, 64, func(ctx context.Context) error {
		if err := s.ensureDestination(ctx, name); err != nil {
			return err
		}
		return s.w.QueryRowContext(ctx, `UPDATE destination_state
			SET failing_since = CASE WHEN failing_since = 0 THEN ? ELSE failing_since END
			WHERE destination = ? RETURNING failing_since`, store.Micros(now), name).Scan(&since)
	})
	return store.FromMicros(since), err
}

// DestinationRecovered implements store.Destinations.
func (s *Store) DestinationRecovered(ctx context.Context, name string) error {
	return s.write(ctx, 64, func(ctx context.Context) error {
		_, err := s.w.ExecContext(ctx, `UPDATE destination_state SET failing_since = 0 WHERE destination = ? AND failing_since <> 0`, name)
		return err
	})
}

// DestinationBreakerOpen implements store.Destinations.
func (s *Store) DestinationBreakerOpen(ctx context.Context, name string, until time.Time) error {
	return s.write(ctx, 64, func(ctx context.Context) error {
		if err := s.ensureDestination(ctx, name); err != nil {
			return err
		}
		_, err := s.w.ExecContext(ctx, `UPDATE destination_state SET breaker_open_until = ? WHERE destination = ?`, store.Micros(until), name)
		return err
	})
}

// DestinationTakeTokens implements store.Destinations. The writer
// goroutine serializes it with every other write, so the read-modify-write
// of the bucket is atomic.
func (s *Store) DestinationTakeTokens(ctx context.Context, name string, want int, rate float64, burst int, now time.Time) (int, time.Duration, error) {
	var got int
	var wait time.Duration
	err := s.write(ctx, 64, func(ctx context.Context) error {
		var tokens float64
		var at int64
		err := s.w.QueryRowContext(ctx, `SELECT tokens, tokens_at FROM destination_state WHERE destination = ?`, name).Scan(&tokens, &at)
		if errors.Is(err, sql.ErrNoRows) {
			if err = s.ensureDestination(ctx, name); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		var level float64
		level, got, wait = store.Bucket(tokens, store.FromMicros(at), now, want, rate, burst)
		stamp := max(store.Micros(now), at)
		_, err = s.w.ExecContext(ctx, `UPDATE destination_state SET tokens = ?, tokens_at = ? WHERE destination = ?`, level, stamp, name)
		return err
	})
	return got, wait, err
}

// DestinationReturnTokens implements store.Destinations.
func (s *Store) DestinationReturnTokens(ctx context.Context, name string, n, burst int) error {
	if n <= 0 {
		return nil
	}
	return s.write(ctx, 64, func(ctx context.Context) error {
		_, err := s.w.ExecContext(ctx, `UPDATE destination_state SET tokens = min(tokens + ?, ?) WHERE destination = ?`, n, burst, name)
		return err
	})
}
