package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookyard/hookyard/internal/store"
)

var _ store.Drift = (*Store)(nil)

// driftUpsert adds a batch row's counts; the first example is kept.
const driftUpsert = `INSERT INTO drift_paths (source, topic, path, type, seen, example, missing, missing_example)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (source, topic, path, type) DO UPDATE SET
    seen = drift_paths.seen + excluded.seen,
    example = CASE WHEN drift_paths.example = '' THEN excluded.example ELSE drift_paths.example END,
    missing = drift_paths.missing + excluded.missing,
    missing_example = CASE WHEN drift_paths.missing_example = '' THEN excluded.missing_example ELSE drift_paths.missing_example END`

// DriftRecord implements store.Drift. The rows are written in one batch,
// in a fixed order (path, type) so concurrent batches from several nodes
// lock rows in the same order.
func (s *Store) DriftRecord(ctx context.Context, b store.DriftBatch) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		batch := &pgx.Batch{}
		batch.Queue(`INSERT INTO drift_streams (source, topic, events) VALUES ($1, $2, $3)
ON CONFLICT (source, topic) DO UPDATE SET events = drift_streams.events + excluded.events`, text(b.Source), text(b.Topic), b.Events)
		for _, p := range b.Paths {
			batch.Queue(driftUpsert, text(b.Source), text(b.Topic), text(p.Path), p.Type, p.Seen, text(p.Example),
				p.Missing, text(p.MissingExample))
		}
		return tx.SendBatch(ctx, batch).Close()
	})
	return unavailable("drift record", err)
}

// DriftFreeze implements store.Drift.
func (s *Store) DriftFreeze(ctx context.Context, source, topic string, minEvents int64, at time.Time) (bool, error) {
	froze := false
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE drift_streams SET frozen_at = $1, baseline_events = events
WHERE source = $2 AND topic = $3 AND ($4::bigint = 0 OR (frozen_at = 0 AND events >= $4::bigint))`, store.Micros(at), text(source), text(topic), minEvents)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		froze = true
		if _, err := tx.Exec(ctx, `DELETE FROM drift_paths WHERE source = $1 AND topic = $2 AND type = ''`, text(source), text(topic)); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE drift_paths SET baseline_seen = seen WHERE source = $1 AND topic = $2`, text(source), text(topic))
		return err
	})
	return froze, unavailable("drift freeze", err)
}

// DriftStreams implements store.Drift.
func (s *Store) DriftStreams(ctx context.Context) ([]store.DriftStream, error) {
	rows, err := s.pool.Query(ctx, `SELECT source, topic, events, baseline_events, frozen_at FROM drift_streams ORDER BY source, topic`)
	if err != nil {
		return nil, unavailable("drift streams", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.DriftStream, error) {
		var d store.DriftStream
		var frozen int64
		err := r.Scan(&d.Source, &d.Topic, &d.Events, &d.BaselineEvents, &frozen)
		d.FrozenAt = store.FromMicros(frozen)
		return d, err
	})
	return out, unavailable("drift streams", err)
}

// DriftPaths implements store.Drift.
func (s *Store) DriftPaths(ctx context.Context, source, topic string) ([]store.DriftPath, error) {
	rows, err := s.pool.Query(ctx, `SELECT path, type, seen, example, baseline_seen, missing, missing_example
FROM drift_paths WHERE source = $1 AND topic = $2 ORDER BY path COLLATE "C", type COLLATE "C"`, text(source), text(topic))
	if err != nil {
		return nil, unavailable("drift paths", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.DriftPath, error) {
		var p store.DriftPath
		err := r.Scan(&p.Path, &p.Type, &p.Seen, &p.Example, &p.BaselineSeen, &p.Missing, &p.MissingExample)
		p.InBaseline = p.BaselineSeen >= 0
		if !p.InBaseline {
			p.BaselineSeen = 0
		}
		return p, err
	})
	return out, unavailable("drift paths", err)
}
