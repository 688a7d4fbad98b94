package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"
)

var _ store.Drift = (*Store)(nil)

// driftUpsert adds a batch row's counts; the first example is kept.
const driftUpsert = `INSERT INTO drift_paths (source, topic, path, type, seen, example, missing, missing_example)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (source, topic, path, type) DO UPDATE SET
    seen = drift_paths.seen + excluded.seen,
    example = CASE WHEN drift_paths.example = '' THEN excluded.example ELSE drift_paths.example END,
    missing = drift_paths.missing + excluded.missing,
    missing_example = CASE WHEN drift_paths.missing_example = '' THEN excluded.missing_example ELSE drift_paths.missing_example END`

// DriftRecord implements store.Drift.
func (s *Store) DriftRecord(ctx context.Context, b store.DriftBatch) error {
	return s.write(ctx, 64*(1+len(b.Paths)), func(ctx context.Context) error {
		if _, err := s.w.ExecContext(ctx, `INSERT INTO drift_streams (source, topic, events) VALUES (?, ?, ?)
ON CONFLICT (source, topic) DO UPDATE SET events = drift_streams.events + excluded.events`, b.Source, b.Topic, b.Events); err != nil {
			return err
		}
		for _, p := range b.Paths {
			if _, err := s.w.ExecContext(ctx, driftUpsert, b.Source, b.Topic, p.Path, p.Type, p.Seen, p.Example,
				p.Missing, p.MissingExample); err != nil {
				return err
			}
		}
		return nil
	})
}

// DriftFreeze implements store.Drift.
func (s *Store) DriftFreeze(ctx context.Context, source, topic string, minEvents int64, at time.Time) (bool, error) {
	froze := false
	err := s.write(ctx, 64, func(ctx context.Context) error {
		res, err := s.w.ExecContext(ctx, `UPDATE drift_streams SET frozen_at = ?, baseline_events = events
WHERE source = ? AND topic = ? AND (? = 0 OR (frozen_at = 0 AND events >= ?))`, store.Micros(at), source, topic, minEvents, minEvents)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil || n == 0 {
			return err
		}
		froze = true
		if _, err := s.w.ExecContext(ctx, `DELETE FROM drift_paths WHERE source = ? AND topic = ? AND type = ''`, source, topic); err != nil {
			return err
		}
		_, err = s.w.ExecContext(ctx, `UPDATE drift_paths SET baseline_seen = seen WHERE source = ? AND topic = ?`, source, topic)
		return err
	})
	return froze, err
}

// DriftStreams implements store.Drift.
func (s *Store) DriftStreams(ctx context.Context) ([]store.DriftStream, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT source, topic, events, baseline_events, frozen_at FROM drift_streams ORDER BY source, topic`)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", webhook.ErrUnavailable, err)
	}
	defer rows.Close()
	var out []store.DriftStream
	for rows.Next() {
		var d store.DriftStream
		var frozen int64
		if err := rows.Scan(&d.Source, &d.Topic, &d.Events, &d.BaselineEvents, &frozen); err != nil {
			return nil, err
		}
		d.FrozenAt = store.FromMicros(frozen)
		out = append(out, d)
	}
	return out, rows.Err()
}

// DriftPaths implements store.Drift.
func (s *Store) DriftPaths(ctx context.Context, source, topic string) ([]store.DriftPath, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT path, type, seen, example, baseline_seen, missing, missing_example
FROM drift_paths WHERE source = ? AND topic = ? ORDER BY path, type`, source, topic)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", webhook.ErrUnavailable, err)
	}
	defer rows.Close()
	var out []store.DriftPath
	for rows.Next() {
		var p store.DriftPath
		if err := rows.Scan(&p.Path, &p.Type, &p.Seen, &p.Example, &p.BaselineSeen, &p.Missing, &p.MissingExample); err != nil {
			return nil, err
		}
		p.InBaseline = p.BaselineSeen >= 0
		if !p.InBaseline {
			p.BaselineSeen = 0
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
