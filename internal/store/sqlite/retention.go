package sqlite

import (
	"context"
	"fmt"

	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"
)

var _ store.Retention = (*Store)(nil)

// RetentionDelete implements store.Retention. It runs as one operation of
// the writer, so no claim, replay or outcome interleaves with it, and a
// batch is small enough not to hold ingest back for long. Old events come
// from a range scan of the primary key (ids are time-ordered); each
// event's deliveries are its delivery-id range in the deliveries' primary
// key.
func (s *Store) RetentionDelete(ctx context.Context, p store.RetentionParams) (store.RetentionResult, error) {
	limit := store.RetentionLimit(p.Limit)
	before := webhook.NewIDBound("evt_", p.Before, false)
	dead := ""
	if !p.DeadBefore.IsZero() {
		dead = webhook.NewIDBound("evt_", p.DeadBefore, false)
	}
	qBefore := webhook.NewIDBound("qtn_", p.Before, false)
	var res store.RetentionResult
	err := s.write(ctx, 64*limit, func(ctx context.Context) error {
		res = store.RetentionResult{}
		ids, err := s.column(ctx, `SELECT id FROM events WHERE id > ? AND id < ? ORDER BY id LIMIT ?`, p.After, before, limit)
		if err != nil {
			return err
		}
		res.Examined = len(ids)
	events:
		for _, id := range ids {
			res.Next = id
			lo, hi := store.DeliveryIDRange(id)
			states, err := s.column(ctx, `SELECT state FROM deliveries WHERE id >= ? AND id < ?`, lo, hi)
			if err != nil {
				return err
			}
			for _, st := range states {
				if store.RetentionKeeps(webhook.State(st), id, dead) {
					continue events
				}
			}
			r, err := s.w.ExecContext(ctx, `DELETE FROM attempts WHERE delivery_id >= ? AND delivery_id < ?`, lo, hi)
			if err != nil {
				return err
			}
			n, _ := r.RowsAffected()
			res.Attempts += int(n)
			if r, err = s.w.ExecContext(ctx, `DELETE FROM deliveries WHERE id >= ? AND id < ?`, lo, hi); err != nil {
				return err
			}
			n, _ = r.RowsAffected()
			res.Deliveries += int(n)
			if _, err := s.w.ExecContext(ctx, `DELETE FROM events WHERE id = ?`, id); err != nil {
				return err
			}
			res.Events++
		}
		r, err := s.w.ExecContext(ctx, `DELETE FROM quarantine WHERE id IN (
			SELECT id FROM quarantine WHERE id < ? ORDER BY id LIMIT ?)`, qBefore, limit)
		if err != nil {
			return err
		}
		n, _ := r.RowsAffected()
		res.Quarantined = int(n)
		return nil
	})
	if err != nil {
		return store.RetentionResult{}, fmt.Errorf("sqlite: retention: %w", err)
	}
	return res, nil
}

// column runs a query on the writer connection and returns its one text
// column.
func (s *Store) column(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := s.w.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
