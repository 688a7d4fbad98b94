package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"
)

var _ store.Retention = (*Store)(nil)

// retentionCandidates finds finished events received before a bound, in
// id order (ids are time-ordered, so the primary key is the age index). An
// event's deliveries are the primary-key range of its id: "any live
// delivery?" is one short index probe per event. $2 is the dead-letter
// bound: an event at or after it keeps its dead deliveries (and so
// itself); "" keeps every dead delivery.
const retentionCandidates = `SELECT e.id FROM events e
	WHERE e.id > $1 AND e.id < $3 AND NOT EXISTS (
		SELECT 1 FROM deliveries d
		WHERE d.id >= ('dlv_' || substr(e.id, 5) || '.') COLLATE "C"
		  AND d.id < ('dlv_' || substr(e.id, 5) || '/') COLLATE "C"
		  AND (d.state IN ('pending', 'inflight') OR (d.state = 'dead' AND e.id >= $2)))
	ORDER BY e.id LIMIT $4`

// retentionLock locks the deliveries of the candidate events: a replay or
// cancel that raced the candidate query either committed first (and is
// seen here, keeping its event) or waits and then finds nothing.
const retentionLock = `SELECT r.eid, d.id, d.state FROM unnest($1::text[], $2::text[], $3::text[]) AS r(eid, lo, hi)
	JOIN deliveries d ON d.id >= r.lo COLLATE "C" AND d.id < r.hi COLLATE "C"
	ORDER BY d.id FOR UPDATE OF d`

// RetentionDelete implements store.Retention in one short transaction.
func (s *Store) RetentionDelete(ctx context.Context, p store.RetentionParams) (store.RetentionResult, error) {
	limit := store.RetentionLimit(p.Limit)
	before := webhook.NewIDBound("evt_", p.Before, false)
	dead := ""
	if !p.DeadBefore.IsZero() {
		dead = webhook.NewIDBound("evt_", p.DeadBefore, false)
	}
	var res store.RetentionResult
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		res = store.RetentionResult{}
		rows, err := tx.Query(ctx, retentionCandidates, p.After, dead, before, limit)
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		if len(ids) > 0 {
			los, his := make([]string, len(ids)), make([]string, len(ids))
			for i, id := range ids {
				los[i], his[i] = store.DeliveryIDRange(id)
			}
			rows, err = tx.Query(ctx, retentionLock, ids, los, his)
			if err != nil {
				return err
			}
			keep := map[string]bool{}
			type del struct{ event, id string }
			var dels []del
			var eid, did, state string
			_, err = pgx.ForEachRow(rows, []any{&eid, &did, &state}, func() error {
				live := state == string(webhook.StatePending) || state == string(webhook.StateInFlight)
				if live || (state == string(webhook.StateDead) && (dead == "" || eid >= dead)) {
					keep[eid] = true
				}
				dels = append(dels, del{eid, did})
				return nil
			})
			if err != nil {
				return err
			}
			var events, deliveries []string
			for _, id := range ids {
				if !keep[id] {
					events = append(events, id)
				}
			}
			for _, d := range dels {
				if !keep[d.event] {
					deliveries = append(deliveries, d.id)
				}
			}
			tag, err := tx.Exec(ctx, `DELETE FROM attempts WHERE delivery_id = ANY($1)`, deliveries)
			if err != nil {
				return err
			}
			res.Attempts = int(tag.RowsAffected())
			if tag, err = tx.Exec(ctx, `DELETE FROM deliveries WHERE id = ANY($1)`, deliveries); err != nil {
				return err
			}
			res.Deliveries = int(tag.RowsAffected())
			if tag, err = tx.Exec(ctx, `DELETE FROM events WHERE id = ANY($1)`, events); err != nil {
				return err
			}
			res.Events = int(tag.RowsAffected())
			res.Next = ids[len(ids)-1]
		}
		tag, err := tx.Exec(ctx, `DELETE FROM quarantine WHERE id IN (
			SELECT id FROM quarantine WHERE id < $1 ORDER BY id LIMIT $2)`,
			webhook.NewIDBound("qtn_", p.Before, false), limit)
		if err != nil {
			return err
		}
		res.Quarantined = int(tag.RowsAffected())
		return nil
	})
	if err != nil {
		return store.RetentionResult{}, s.unavailable("retention", err)
	}
	return res, nil
}
