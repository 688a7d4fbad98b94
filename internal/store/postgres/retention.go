package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"
)

var _ store.Retention = (*Store)(nil)

// Retention examines old events in two plain steps rather than one
// "events with no live delivery" anti-join: on a table of a million
// events the planner answered that anti-join by materializing every live
// and dead delivery and filtering each event against all of them (3.7 s
// for one batch of 500, see docs/SCALING.md). Here the first statement
// is a range scan of the events' primary key (ids are time-ordered, so
// it is the age index) and the second probes each event's delivery-id
// range in the deliveries' primary key.

// retentionLock reads and locks the deliveries of the candidate events: a
// replay or cancel that raced this batch either committed first (and is
// seen here, keeping its event) or waits and then finds nothing. LATERAL
// makes each event one range probe of the primary key: as a plain range
// join ordered by id, the planner walked the whole deliveries index
// against every event (146 s for 500 events among a million).
const retentionLock = `SELECT r.eid, d.id, d.state FROM unnest($1::text[], $2::text[], $3::text[]) AS r(eid, lo, hi)
	CROSS JOIN LATERAL (SELECT id, state FROM deliveries
		WHERE id >= r.lo COLLATE "C" AND id < r.hi COLLATE "C" FOR UPDATE) d`

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
		rows, err := tx.Query(ctx, `SELECT id FROM events WHERE id > $1 AND id < $2 ORDER BY id LIMIT $3`,
			text(p.After), before, limit)
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		res.Examined = len(ids)
		if len(ids) > 0 {
			res.Next = ids[len(ids)-1]
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
				if store.RetentionKeeps(webhook.State(state), eid, dead) {
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
