package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"math/bits"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"
)

const deliveryCols = `id, event_id, destination, route, state, priority, ordering_key, order_block, version, attempts,
	max_attempts, due_at, ready_at, lease_owner, lease_token, last_error, last_error_class, created_at,
	updated_at, completed_at`

// prefixed qualifies every column of a comma-separated list with alias.
func prefixed(alias, cols string) string {
	parts := strings.Split(cols, ",")
	for i, p := range parts {
		parts[i] = alias + "." + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}

// claimQuery leases due work in one statement: the inner SELECT picks the
// destination's due pending deliveries and expired leases through the
// deliveries_claim index, highest priority then oldest due first, and locks
// them with SKIP LOCKED, so concurrent claimers (on any node) take
// disjoint rows without waiting; the UPDATE leases them and bumps the
// fencing token; the outer SELECT joins their events, so the bodies come
// back in the same round trip.
//
// Tiers become a priority range, which the index scan uses while keeping
// its order; a set of tiers with a gap (high and low, not normal) also
// excludes the missing priorities with a filter. (priority = ANY(array)
// would cost a sort of every due row: PostgreSQL before 17 returns array
// matches on a second index column out of order. A bit test such as
// ((tiers >> priority) & 1) = 1 is estimated at 0.5% of rows, and after a
// burst into a table analyzed while empty that estimate made the planner
// choose a bitmap scan and a sort; see TestClaimPlan.) It runs on the
// queue pool, whose connections disable sequential and bitmap scans, so
// the ordered index scan is the only plan left however stale the
// statistics.
//
// A delivery with an ordering key is claimable only while no earlier live
// (or blocking dead) delivery of its key exists. Two claimers racing for a
// key cannot both pass that check: the head is locked by one and skipped
// by the other, and every later delivery sees the head as live.
var claimQuery = `WITH claimed AS (
	UPDATE deliveries d SET state = 'inflight', lease_owner = $1, lease_token = d.lease_token + 1,
		due_at = $2, updated_at = $3
	FROM (
		SELECT c.id FROM deliveries c
		WHERE c.destination = $4 AND c.state IN ('pending', 'inflight') AND c.due_at <= $3
		AND c.priority BETWEEN $5 AND $6 /*tiers*/
		AND (c.ordering_key = '' OR NOT EXISTS (
			SELECT 1 FROM deliveries h
			WHERE h.destination = c.destination AND h.ordering_key = c.ordering_key AND h.id < c.id
			AND h.ordering_key <> '' AND (h.state IN ('pending', 'inflight') OR (h.state = 'dead' AND h.order_block))))
		ORDER BY c.priority, c.due_at
		LIMIT $7
		FOR UPDATE OF c SKIP LOCKED
	) pick
	WHERE d.id = pick.id
	RETURNING ` + prefixed("d", deliveryCols) + `
)
SELECT ` + prefixed("claimed", deliveryCols) + `,
	e.source, e.provider, e.topic, e.dedup_key, e.received_at, e.headers, e.body
FROM claimed JOIN events e ON e.id = claimed.event_id`

// claimGapQuery is claimQuery for tiers with a gap: $8 lists the
// priorities inside the range that are not claimed.
var claimGapQuery = strings.Replace(claimQuery, "/*tiers*/", "AND c.priority <> ALL($8::int[])", 1)

// DeliveryClaim implements store.Store.
func (s *Store) DeliveryClaim(ctx context.Context, p store.ClaimParams) ([]webhook.Claimed, error) {
	if p.Limit <= 0 {
		p.Limit = 1
	}
	tiers := p.Tiers
	if tiers == 0 {
		tiers = store.TierAll
	}
	now := store.Micros(p.Now)
	lo, hi := bits.TrailingZeros8(tiers), 7-bits.LeadingZeros8(tiers)
	query, args := claimQuery, []any{text(p.Owner), store.Micros(p.Now.Add(p.Lease)), now, text(p.Destination), lo, hi, p.Limit}
	var gaps []int32
	for p := lo + 1; p < hi; p++ {
		if tiers&(1<<p) == 0 {
			gaps = append(gaps, int32(p))
		}
	}
	if len(gaps) > 0 {
		query, args = claimGapQuery, append(args, gaps)
	}
	var q interface {
		Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	} = s.queue
	commit := func() error { return nil }
	if p.MaxInFlight > 0 {
		// Count the live leases and claim in one transaction holding the
		// destination's state-row lock, so nodes claiming at once take
		// turns and together stay within the cap.
		tx, err := s.queue.Begin(ctx)
		if err != nil {
			return nil, s.unavailable("claim", err)
		}
		defer tx.Rollback(context.WithoutCancel(ctx))
		if _, err := tx.Exec(ctx, `INSERT INTO destination_state (destination) VALUES ($1) ON CONFLICT DO NOTHING`, text(p.Destination)); err != nil {
			return nil, s.unavailable("claim", err)
		}
		if _, err := tx.Exec(ctx, `SELECT 1 FROM destination_state WHERE destination = $1 FOR UPDATE`, text(p.Destination)); err != nil {
			return nil, s.unavailable("claim", err)
		}
		// A statement of its own after the lock: in READ COMMITTED it sees
		// the claims of the transaction that held the lock before us.
		var live int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM deliveries WHERE destination = $1 AND state = 'inflight' AND due_at > $2`,
			text(p.Destination), now).Scan(&live); err != nil {
			return nil, s.unavailable("claim", err)
		}
		limit := min(p.Limit, p.MaxInFlight-live)
		if limit <= 0 {
			return nil, nil
		}
		args[6] = limit
		q, commit = tx, func() error { return tx.Commit(ctx) }
	}
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, s.unavailable("claim", err)
	}
	defer rows.Close()
	var out []webhook.Claimed
	for rows.Next() {
		var c webhook.Claimed
		var r deliveryRow
		var recv int64
		var headers []byte
		dest := append(r.dest(), &c.Event.Source, &c.Event.Provider, &c.Event.Topic, &c.Event.DedupKey, &recv,
			&headers, &c.Event.Body)
		if err := rows.Scan(dest...); err != nil {
			return nil, s.unavailable("claim", err)
		}
		c.Delivery = r.delivery()
		c.Event.ID = c.Delivery.EventID
		if err := finishEvent(&c.Event, recv, headers, true); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, s.unavailable("claim", err)
	}
	rows.Close()
	if err := commit(); err != nil {
		return nil, s.unavailable("claim", err)
	}
	// RETURNING does not keep the subquery's order: restore priority, then
	// age (delivery ids are time-ordered).
	sort.Slice(out, func(i, j int) bool {
		a, b := &out[i].Delivery, &out[j].Delivery
		if a.Priority != b.Priority {
			return a.Priority < b.Priority
		}
		return a.ID < b.ID
	})
	return out, nil
}

// DeliveryNextDue implements store.Store.
func (s *Store) DeliveryNextDue(ctx context.Context, destination string) (time.Time, bool, error) {
	var due *int64
	err := s.queue.QueryRow(ctx, `SELECT min(due_at) FROM deliveries
		WHERE destination = $1 AND state IN ('pending', 'inflight')`, text(destination)).Scan(&due)
	if err != nil {
		return time.Time{}, false, s.unavailable("next due", err)
	}
	if due == nil {
		return time.Time{}, false, nil
	}
	return store.FromMicros(*due), true, nil
}

// DeliverySucceed implements store.Store.
func (s *Store) DeliverySucceed(ctx context.Context, id string, token int64, a webhook.Attempt) error {
	return s.outcome(ctx, &outcomeOp{id: id, token: token, state: webhook.StateSucceeded, a: &a})
}

// DeliveryRetry implements store.Store.
func (s *Store) DeliveryRetry(ctx context.Context, id string, token int64, a webhook.Attempt, next time.Time) error {
	return s.outcome(ctx, &outcomeOp{id: id, token: token, state: webhook.StatePending, due: store.Micros(next),
		lastError: a.Error, lastClass: a.ErrorClass, a: &a})
}

// DeliveryDead implements store.Store.
func (s *Store) DeliveryDead(ctx context.Context, id string, token int64, a webhook.Attempt) error {
	return s.outcome(ctx, &outcomeOp{id: id, token: token, state: webhook.StateDead,
		lastError: a.Error, lastClass: a.ErrorClass, a: &a})
}

// DeliveryRelease implements store.Store. It runs only at shutdown, so it
// is a plain statement on the pool rather than a trip through the outcome
// writer.
func (s *Store) DeliveryRelease(ctx context.Context, id string, token int64) error {
	tag, err := s.pool.Exec(ctx, `UPDATE deliveries SET state = 'pending', lease_owner = '', due_at = $3, ready_at = $3,
		updated_at = $3 WHERE id = $1 AND lease_token = $2 AND state = 'inflight'`, text(id), token, store.Micros(s.now()))
	if err != nil {
		return s.unavailable("delivery "+id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("delivery %s: %w", id, webhook.ErrLeaseLost)
	}
	return nil
}

// DeliveryReplay implements store.Store. Replayed work is due now, so the
// destinations are notified like an ingest's, and every node may take it.
func (s *Store) DeliveryReplay(ctx context.Context, ids []string, now time.Time) (int, error) {
	rows, err := s.pool.Query(ctx, `UPDATE deliveries SET state = 'pending', attempts = 0, due_at = $2, ready_at = $2,
		lease_owner = '', updated_at = $2, completed_at = 0
		WHERE state IN ('dead', 'cancelled', 'succeeded') AND id = ANY($1)
		RETURNING destination`, texts(ids), store.Micros(now))
	if err != nil {
		return 0, s.unavailable("replay", err)
	}
	dests, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, s.unavailable("replay", err)
	}
	s.wake(dests)
	return len(dests), nil
}

// DeliveryCancel implements store.Store. Bumping the lease token fences
// off a worker still sending a cancelled delivery.
func (s *Store) DeliveryCancel(ctx context.Context, ids []string, now time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE deliveries SET state = 'cancelled', lease_owner = '', updated_at = $2,
		completed_at = $2, lease_token = lease_token + 1
		WHERE state IN ('pending', 'inflight') AND id = ANY($1)`, texts(ids), store.Micros(now))
	if err != nil {
		return 0, s.unavailable("cancel", err)
	}
	return int(tag.RowsAffected()), nil
}

// Ping implements store.Store: a real (tiny) durable write, so readiness
// fails when the database cannot commit, not only when it cannot answer.
func (s *Store) Ping(ctx context.Context) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO kv (k, v) VALUES ('readyz', $1) ON CONFLICT (k) DO UPDATE SET v = excluded.v`,
		s.now().UTC().Format(time.RFC3339Nano))
	return s.unavailable("ping", err)
}

func texts(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = text(s)
	}
	return out
}

// deliveryRow scans deliveryCols.
type deliveryRow struct {
	d                                       webhook.Delivery
	state                                   string
	due, ready, created, updated, completed int64
}

// dest returns the Scan destinations for deliveryCols; callers may append
// more columns.
func (r *deliveryRow) dest() []any {
	d := &r.d
	return []any{&d.ID, &d.EventID, &d.Destination, &d.Route, &r.state, &d.Priority, &d.OrderingKey,
		&d.BlockOnDead, &d.Version, &d.Attempts, &d.MaxAttempts, &r.due, &r.ready, &d.LeaseOwner, &d.LeaseToken,
		&d.LastError, &d.LastErrorClass, &r.created, &r.updated, &r.completed}
}

func (r *deliveryRow) delivery() webhook.Delivery {
	d := r.d
	d.State = webhook.State(r.state)
	d.NextAttemptAt, d.ReadyAt = store.FromMicros(r.due), store.FromMicros(r.ready)
	d.CreatedAt, d.UpdatedAt, d.CompletedAt = store.FromMicros(r.created), store.FromMicros(r.updated), store.FromMicros(r.completed)
	return d
}

func finishEvent(ev *webhook.Event, recv int64, headers []byte, withBody bool) error {
	ev.ReceivedAt = store.FromMicros(recv)
	if len(headers) > 0 {
		ev.Headers = http.Header{}
		if err := json.Unmarshal(headers, &ev.Headers); err != nil {
			return fmt.Errorf("postgres: event %s headers: %w", ev.ID, err)
		}
	}
	if ev.Body == nil && withBody {
		ev.Body = []byte{}
	}
	return nil
}
