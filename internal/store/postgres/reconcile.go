package postgres

import (
	"context"
	"fmt"

	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"
)

var _ store.Reconciles = (*Store)(nil)

// ReconcileRunSave implements store.Reconciles. Runs are saved a few times
// a minute at most, so each is its own statement.
func (s *Store) ReconcileRunSave(ctx context.Context, r *store.ReconcileRun) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO reconcile_runs (`+store.ReconcileRunColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
		ON CONFLICT (id) DO UPDATE SET `+store.ReconcileRunUpdate,
		text(r.ID), text(r.Source), text(r.Trigger), text(r.State), store.Micros(r.Since), store.Micros(r.Until),
		r.Listed, r.Matched, r.Missing, r.Backfilled, r.Errors, text(r.Cursor), text(truncate(r.LastError, 1024)),
		store.Micros(r.StartedAt), store.Micros(r.FinishedAt), r.Quarantined)
	return s.unavailable("reconcile run save", err)
}

// ReconcileRunGet implements store.Reconciles.
func (s *Store) ReconcileRunGet(ctx context.Context, id string) (store.ReconcileRun, error) {
	runs, err := s.runs(ctx, `WHERE id = $1`, text(id))
	if err != nil {
		return store.ReconcileRun{}, err
	}
	if len(runs) == 0 {
		return store.ReconcileRun{}, fmt.Errorf("reconcile run %s: %w", id, webhook.ErrNotFound)
	}
	return runs[0], nil
}

// ReconcileRunList implements store.Reconciles.
func (s *Store) ReconcileRunList(ctx context.Context, source string, limit int) ([]store.ReconcileRun, error) {
	if source == "" {
		return s.runs(ctx, `ORDER BY id DESC LIMIT $1`, store.PageLimit(limit))
	}
	return s.runs(ctx, `WHERE source = $1 ORDER BY id DESC LIMIT $2`, text(source), store.PageLimit(limit))
}

// ReconcileRunUnfinished implements store.Reconciles.
func (s *Store) ReconcileRunUnfinished(ctx context.Context, source string) (store.ReconcileRun, bool, error) {
	runs, err := s.runs(ctx, `WHERE source = $1 AND state = $2 ORDER BY id DESC LIMIT 1`, text(source), store.RunRunning)
	if err != nil || len(runs) == 0 {
		return store.ReconcileRun{}, false, err
	}
	return runs[0], true, nil
}

func (s *Store) runs(ctx context.Context, tail string, args ...any) ([]store.ReconcileRun, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+store.ReconcileRunColumns+` FROM reconcile_runs `+tail, args...)
	if err != nil {
		return nil, s.unavailable("reconcile runs", err)
	}
	defer rows.Close()
	var out []store.ReconcileRun
	for rows.Next() {
		r, err := store.ScanReconcileRun(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, s.unavailable("reconcile runs", rows.Err())
}

// EventKeysStored implements store.Reconciles with one array parameter.
func (s *Store) EventKeysStored(ctx context.Context, source string, keys []string) (map[string]bool, error) {
	out := make(map[string]bool)
	if len(keys) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT dedup_key FROM events WHERE source = $1 AND dedup_key = ANY($2)`,
		text(source), texts(keys))
	if err != nil {
		return nil, s.unavailable("event keys", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		out[k] = true
	}
	return out, s.unavailable("event keys", rows.Err())
}
