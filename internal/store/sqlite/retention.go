package sqlite

import (
	"context"
	"fmt"

	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"
)

var _ store.Retention = (*Store)(nil)

// retentionCandidates finds finished events received before a bound, in
// id order. An event's deliveries are the primary-key range of its id, so
// "any live delivery?" is one short index probe per event. ?2 is the
// dead-letter bound: an event at or after it keeps its dead deliveries
// (and so itself); "" keeps every dead delivery.
const retentionCandidates = `SELECT e.id FROM events e
	WHERE e.id > ?1 AND e.id < ?3 AND NOT EXISTS (
		SELECT 1 FROM deliveries d
		WHERE d.id >= 'dlv_' || substr(e.id, 5) || '.' AND d.id < 'dlv_' || substr(e.id, 5) || '/'
		  AND (d.state IN ('pending', 'inflight') OR (d.state = 'dead' AND e.id >= ?2)))
	ORDER BY e.id LIMIT ?4`

// RetentionDelete implements store.Retention. It runs as one operation of
// the writer, so no claim, replay or outcome interleaves with it, and a
// batch is small enough not to hold ingest back for long.
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
		rows, err := s.w.QueryContext(ctx, retentionCandidates, p.After, dead, before, limit)
		if err != nil {
			return err
		}
		var ids []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range ids {
			lo, hi := store.DeliveryIDRange(id)
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
			res.Next = id
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
