package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"
)

var _ store.Reconciles = (*Store)(nil)

// ReconcileRunSave implements store.Reconciles.
func (s *Store) ReconcileRunSave(ctx context.Context, r *store.ReconcileRun) error {
	return s.write(ctx, len(r.Cursor)+len(r.LastError)+256, func(ctx context.Context) error {
		_, err := s.w.ExecContext(ctx, `INSERT INTO reconcile_runs (`+store.ReconcileRunColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET `+store.ReconcileRunUpdate,
			r.ID, r.Source, r.Trigger, r.State, store.Micros(r.Since), store.Micros(r.Until), r.Listed, r.Matched,
			r.Missing, r.Backfilled, r.Errors, r.Cursor, truncate(r.LastError, 1024), store.Micros(r.StartedAt),
			store.Micros(r.FinishedAt), r.Quarantined)
		return err
	})
}

// ReconcileRunGet implements store.Reconciles.
func (s *Store) ReconcileRunGet(ctx context.Context, id string) (store.ReconcileRun, error) {
	runs, err := s.runs(ctx, `WHERE id = ?`, id)
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
		return s.runs(ctx, `ORDER BY id DESC LIMIT `+itoa(store.PageLimit(limit)))
	}
	return s.runs(ctx, `WHERE source = ? ORDER BY id DESC LIMIT `+itoa(store.PageLimit(limit)), source)
}

// ReconcileRunUnfinished implements store.Reconciles.
func (s *Store) ReconcileRunUnfinished(ctx context.Context, source string) (store.ReconcileRun, bool, error) {
	runs, err := s.runs(ctx, `WHERE source = ? AND state = ? ORDER BY id DESC LIMIT 1`, source, store.RunRunning)
	if err != nil || len(runs) == 0 {
		return store.ReconcileRun{}, false, err
	}
	return runs[0], true, nil
}

func (s *Store) runs(ctx context.Context, tail string, args ...any) ([]store.ReconcileRun, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+store.ReconcileRunColumns+` FROM reconcile_runs `+tail, args...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", webhook.ErrUnavailable, err)
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
	return out, rows.Err()
}

// EventKeysStored implements store.Reconciles, in chunks that stay under
// SQLite's bound-parameter limit.
func (s *Store) EventKeysStored(ctx context.Context, source string, keys []string) (map[string]bool, error) {
	out := make(map[string]bool)
	for len(keys) > 0 {
		n := min(len(keys), 500)
		chunk := keys[:n]
		keys = keys[n:]
		args := make([]any, 0, n+1)
		args = append(args, source)
		for _, k := range chunk {
			args = append(args, k)
		}
		rows, err := s.rdb.QueryContext(ctx, `SELECT dedup_key FROM events WHERE source = ? AND dedup_key IN (?`+
			strings.Repeat(", ?", n-1)+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", webhook.ErrUnavailable, err)
		}
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				rows.Close()
				return nil, err
			}
			out[k] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
	}
	return out, nil
}
