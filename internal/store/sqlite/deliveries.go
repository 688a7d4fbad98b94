package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"
)

// stmts are prepared once on the writer connection.
type stmts struct {
	findEvent                            *sql.Stmt
	claim, succeed, retry, dead, release *sql.Stmt
	insertAttempt, ping                  *sql.Stmt
}

const deliverySelect = `id, event_id, destination, route, state, priority, ordering_key, order_block, version, attempts,
	max_attempts, due_at, ready_at, lease_owner, lease_token, last_error, last_error_class, created_at,
	updated_at, completed_at`

func (s *Store) prepare(ctx context.Context) error {
	var err error
	p := func(q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var st *sql.Stmt
		st, err = s.w.PrepareContext(ctx, q)
		if err != nil {
			err = fmt.Errorf("sqlite: prepare %.40q: %w", q, err)
		}
		return st
	}
	s.st = stmts{
		findEvent: p(`SELECT id FROM events WHERE source = ? AND dedup_key = ?`),
		// Claim: due pending work and expired leases, highest priority then
		// oldest due first; every claim bumps the fencing token.
		// A delivery with an ordering key is claimable only while no
		// earlier live (or blocking dead) delivery of its key exists.
		claim: p(`UPDATE deliveries SET state = 'inflight', lease_owner = ?, lease_token = lease_token + 1,
			due_at = ?, updated_at = ?
			WHERE id IN (SELECT d.id FROM deliveries d INDEXED BY deliveries_claim
				WHERE d.destination = ? AND d.state IN ('pending', 'inflight') AND d.due_at <= ?
				AND ((? >> d.priority) & 1) = 1
				AND (d.ordering_key = '' OR NOT EXISTS (
					SELECT 1 FROM deliveries h INDEXED BY deliveries_order
					WHERE h.destination = d.destination AND h.ordering_key = d.ordering_key AND h.id < d.id
					AND h.ordering_key != ''
					AND (h.state IN ('pending', 'inflight') OR (h.state = 'dead' AND h.order_block = 1))))
				ORDER BY d.priority, d.due_at LIMIT ?)
			RETURNING ` + deliverySelect),
		retry: p(`UPDATE deliveries SET state = 'pending', attempts = attempts + 1, lease_owner = '',
			due_at = ?, ready_at = ?, last_error = ?, last_error_class = ?, updated_at = ?
			WHERE id = ? AND lease_token = ? AND state = 'inflight'`),
		dead: p(`UPDATE deliveries SET state = 'dead', attempts = attempts + 1, lease_owner = '',
			last_error = ?, last_error_class = ?, updated_at = ?, completed_at = ?
			WHERE id = ? AND lease_token = ? AND state = 'inflight'`),
		release: p(`UPDATE deliveries SET state = 'pending', lease_owner = '', due_at = ?, ready_at = ?, updated_at = ?
			WHERE id = ? AND lease_token = ? AND state = 'inflight'`),
		insertAttempt: p(`INSERT INTO attempts (delivery_id, number, started_at, duration_us, status_code,
			error_class, error, response_body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
		ping: p(`INSERT INTO kv (k, v) VALUES ('readyz', ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v`),
	}
	return err
}

// DeliveryClaim implements store.Store.
func (s *Store) DeliveryClaim(ctx context.Context, p store.ClaimParams) ([]webhook.Claimed, error) {
	if p.Limit <= 0 {
		p.Limit = 1
	}
	now := store.Micros(p.Now)
	tiers := p.Tiers
	if tiers == 0 {
		tiers = store.TierAll
	}
	var ds []webhook.Delivery
	err := s.write(ctx, 64, func(ctx context.Context) error {
		ds = ds[:0]
		limit := p.Limit
		if p.MaxInFlight > 0 {
			// The single writer serializes this count with every claim.
			var live int
			if err := s.w.QueryRowContext(ctx, `SELECT count(*) FROM deliveries
				WHERE destination = ? AND state = 'inflight' AND due_at > ?`, p.Destination, now).Scan(&live); err != nil {
				return err
			}
			if limit = min(limit, p.MaxInFlight-live); limit <= 0 {
				return nil
			}
		}
		rows, err := s.st.claim.QueryContext(ctx, p.Owner, store.Micros(p.Now.Add(p.Lease)), now,
			p.Destination, now, tiers, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			d, err := scanDelivery(rows)
			if err != nil {
				return err
			}
			ds = append(ds, d)
		}
		return rows.Err()
	})
	if err != nil || len(ds) == 0 {
		return nil, err
	}
	// Bodies are immutable once committed, so they are read outside the
	// writer, on the reader pool.
	ids := make([]any, 0, len(ds))
	seen := make(map[string]bool, len(ds))
	for _, d := range ds {
		if !seen[d.EventID] {
			seen[d.EventID] = true
			ids = append(ids, d.EventID)
		}
	}
	events, err := s.eventsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]webhook.Claimed, 0, len(ds))
	for _, d := range ds {
		ev, ok := events[d.EventID]
		if !ok {
			return nil, fmt.Errorf("sqlite: delivery %s: event %s missing", d.ID, d.EventID)
		}
		out = append(out, webhook.Claimed{Delivery: d, Event: ev})
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

func (s *Store) eventsByID(ctx context.Context, ids []any) (map[string]webhook.Event, error) {
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	rows, err := s.eventsByIDs.QueryContext(ctx, string(list))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", webhook.ErrUnavailable, err)
	}
	defer rows.Close()
	out := make(map[string]webhook.Event, len(ids))
	for rows.Next() {
		ev, err := scanEvent(rows, true)
		if err != nil {
			return nil, err
		}
		out[ev.ID] = ev
	}
	return out, rows.Err()
}

// DeliveryNextDue implements store.Store.
func (s *Store) DeliveryNextDue(ctx context.Context, destination string) (time.Time, bool, error) {
	var due sql.NullInt64
	err := s.rdb.QueryRowContext(ctx, `SELECT min(due_at) FROM deliveries INDEXED BY deliveries_claim
		WHERE destination = ? AND state IN ('pending', 'inflight')`, destination).Scan(&due)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("%w: %w", webhook.ErrUnavailable, err)
	}
	if !due.Valid {
		return time.Time{}, false, nil
	}
	return store.FromMicros(due.Int64), true, nil
}

func (s *Store) insertAttempt(ctx context.Context, id string, n int, a *webhook.Attempt) error {
	var body []byte
	if len(a.ResponseBody) > 0 {
		body = a.ResponseBody
		if len(body) > webhook.MaxAttemptResponse {
			body = body[:webhook.MaxAttemptResponse]
		}
	}
	_, err := s.st.insertAttempt.ExecContext(ctx, id, n, store.Micros(a.StartedAt), a.Duration.Microseconds(),
		a.StatusCode, a.ErrorClass, a.Error, body)
	return err
}

// fenced runs an outcome update guarded by the lease token and records the
// attempt only when the update applied.
func (s *Store) fenced(ctx context.Context, id string, a *webhook.Attempt, update func(ctx context.Context) (sql.Result, error)) error {
	lost := false
	err := s.write(ctx, 256+len(a.ResponseBody), func(ctx context.Context) error {
		lost = false
		r, err := update(ctx)
		if err != nil {
			return err
		}
		if n, err := r.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			lost = true
			return nil
		}
		return s.insertAttempt(ctx, id, a.Number, a)
	})
	if err != nil {
		return err
	}
	if lost {
		return fmt.Errorf("delivery %s: %w", id, webhook.ErrLeaseLost)
	}
	return nil
}

// DeliverySucceed implements store.Store. Successes are the most common
// write after ingest, so the writer applies all of a batch's successes with
// one UPDATE … FROM (VALUES …) and one multi-row attempt insert.
func (s *Store) DeliverySucceed(ctx context.Context, id string, token int64, a webhook.Attempt) error {
	so := &succeedOp{id: id, token: token, a: &a}
	if err := s.submit(ctx, &op{succ: so, size: 256 + len(a.ResponseBody), done: make(chan struct{})}); err != nil {
		return err
	}
	if so.lost {
		return fmt.Errorf("delivery %s: %w", id, webhook.ErrLeaseLost)
	}
	return nil
}

// succeedOp is one DeliverySucceed waiting in the writer queue.
type succeedOp struct {
	id    string
	token int64
	a     *webhook.Attempt
	lost  bool
}

const maxSucceedRows = 200

type leaseKey struct {
	id    string
	token int64
}

// succeedGroup applies every success in batch, fenced by lease token.
func (s *Store) succeedGroup(ctx context.Context, batch []*op) error {
	var ops []*succeedOp
	for _, o := range batch {
		if o.succ != nil {
			o.succ.lost = true
			ops = append(ops, o.succ)
		}
	}
	now := store.Micros(s.now())
	for start := 0; start < len(ops); start += maxSucceedRows {
		chunk := ops[start:min(len(ops), start+maxSucceedRows)]
		args := make([]any, 0, 2+2*len(chunk))
		args = append(args, now, now)
		// Keyed by id and token: a stale worker's success for the same
		// delivery may share the batch, and only the current token wins.
		byID := make(map[leaseKey]*succeedOp, len(chunk))
		for _, so := range chunk {
			args = append(args, so.id, so.token)
			byID[leaseKey{so.id, so.token}] = so
		}
		st, err := s.cached(ctx, "succeed", len(chunk), func() string {
			return `UPDATE deliveries SET state = 'succeeded', attempts = attempts + 1, lease_owner = '',
				last_error = '', last_error_class = '', updated_at = ?, completed_at = ?
				FROM (VALUES ` + rowsOf(len(chunk), 2) + `) AS v
				WHERE deliveries.id = v.column1 AND deliveries.lease_token = v.column2 AND deliveries.state = 'inflight'
				RETURNING deliveries.id, deliveries.lease_token`
		})
		if err != nil {
			return err
		}
		rows, err := st.QueryContext(ctx, args...)
		if err != nil {
			return err
		}
		var won []*succeedOp
		for rows.Next() {
			var k leaseKey
			if err := rows.Scan(&k.id, &k.token); err != nil {
				rows.Close()
				return err
			}
			if so := byID[k]; so != nil {
				so.lost = false
				won = append(won, so)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(won) == 0 {
			continue
		}
		aargs := make([]any, 0, 8*len(won))
		for _, so := range won {
			a := so.a
			body := a.ResponseBody
			if len(body) > webhook.MaxAttemptResponse {
				body = body[:webhook.MaxAttemptResponse]
			}
			aargs = append(aargs, so.id, a.Number, store.Micros(a.StartedAt), a.Duration.Microseconds(), a.StatusCode,
				a.ErrorClass, truncate(a.Error, 1024), body)
		}
		ast, err := s.cached(ctx, "attempts", len(won), func() string {
			return `INSERT INTO attempts (delivery_id, number, started_at, duration_us, status_code, error_class, error,
				response_body) VALUES ` + rowsOf(len(won), 8)
		})
		if err != nil {
			return err
		}
		if _, err := ast.ExecContext(ctx, aargs...); err != nil {
			return err
		}
	}
	return nil
}

// DeliveryRetry implements store.Store.
func (s *Store) DeliveryRetry(ctx context.Context, id string, token int64, a webhook.Attempt, next time.Time) error {
	now := store.Micros(s.now())
	return s.fenced(ctx, id, &a, func(ctx context.Context) (sql.Result, error) {
		return s.st.retry.ExecContext(ctx, store.Micros(next), store.Micros(next), truncate(a.Error, 1024), a.ErrorClass, now, id, token)
	})
}

// DeliveryDead implements store.Store.
func (s *Store) DeliveryDead(ctx context.Context, id string, token int64, a webhook.Attempt) error {
	now := store.Micros(s.now())
	return s.fenced(ctx, id, &a, func(ctx context.Context) (sql.Result, error) {
		return s.st.dead.ExecContext(ctx, truncate(a.Error, 1024), a.ErrorClass, now, now, id, token)
	})
}

// DeliveryRelease implements store.Store.
func (s *Store) DeliveryRelease(ctx context.Context, id string, token int64) error {
	now := store.Micros(s.now())
	lost := false
	err := s.write(ctx, 64, func(ctx context.Context) error {
		r, err := s.st.release.ExecContext(ctx, now, now, now, id, token)
		if err != nil {
			return err
		}
		n, err := r.RowsAffected()
		lost = n == 0
		return err
	})
	if err == nil && lost {
		err = fmt.Errorf("delivery %s: %w", id, webhook.ErrLeaseLost)
	}
	return err
}

// DeliveryReplay implements store.Store.
func (s *Store) DeliveryReplay(ctx context.Context, ids []string, now time.Time) (int, error) {
	return s.bulkUpdate(ctx, ids, `UPDATE deliveries SET state = 'pending', attempts = 0, due_at = ?, ready_at = ?,
		lease_owner = '', updated_at = ?, completed_at = 0
		WHERE state IN ('dead', 'cancelled', 'succeeded') AND id IN (%s)`, store.Micros(now), store.Micros(now), store.Micros(now))
}

// DeliveryCancel implements store.Store.
func (s *Store) DeliveryCancel(ctx context.Context, ids []string, now time.Time) (int, error) {
	return s.bulkUpdate(ctx, ids, `UPDATE deliveries SET state = 'cancelled', lease_owner = '',
		updated_at = ?, completed_at = ?, lease_token = lease_token + 1
		WHERE state IN ('pending', 'inflight') AND id IN (%s)`, store.Micros(now), store.Micros(now))
}

func (s *Store) bulkUpdate(ctx context.Context, ids []string, query string, lead ...any) (int, error) {
	total := 0
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 500)]
		ids = ids[len(chunk):]
		args := append(append([]any{}, lead...), anySlice(chunk)...)
		q := fmt.Sprintf(query, placeholders(len(chunk)))
		var n int64
		err := s.write(ctx, 64*len(chunk), func(ctx context.Context) error {
			r, err := s.w.ExecContext(ctx, q, args...)
			if err != nil {
				return err
			}
			n, err = r.RowsAffected()
			return err
		})
		if err != nil {
			return total, err
		}
		total += int(n)
	}
	return total, nil
}

// Ping implements store.Store: a real (tiny) write through the writer.
func (s *Store) Ping(ctx context.Context) error {
	now := s.now().UTC().Format(time.RFC3339Nano)
	return s.write(ctx, 32, func(ctx context.Context) error {
		_, err := s.st.ping.ExecContext(ctx, now)
		return err
	})
}

type scanner interface{ Scan(dest ...any) error }

func scanDelivery(r scanner) (webhook.Delivery, error) {
	var d webhook.Delivery
	var state string
	var due, ready, created, updated, completed int64
	err := r.Scan(&d.ID, &d.EventID, &d.Destination, &d.Route, &state, &d.Priority, &d.OrderingKey,
		&d.BlockOnDead, &d.Version, &d.Attempts, &d.MaxAttempts, &due, &ready, &d.LeaseOwner, &d.LeaseToken, &d.LastError, &d.LastErrorClass,
		&created, &updated, &completed)
	if err != nil {
		return d, err
	}
	d.State = webhook.State(state)
	d.NextAttemptAt = store.FromMicros(due)
	d.ReadyAt = store.FromMicros(ready)
	d.CreatedAt, d.UpdatedAt, d.CompletedAt = store.FromMicros(created), store.FromMicros(updated), store.FromMicros(completed)
	return d, nil
}

func scanEvent(r scanner, withBody bool) (webhook.Event, error) {
	var ev webhook.Event
	var recv int64
	var headers []byte
	var err error
	if withBody {
		err = r.Scan(&ev.ID, &ev.Source, &ev.Provider, &ev.Topic, &ev.DedupKey, &recv, &headers, &ev.Body)
	} else {
		err = r.Scan(&ev.ID, &ev.Source, &ev.Provider, &ev.Topic, &ev.DedupKey, &recv, &headers)
	}
	if err != nil {
		return ev, err
	}
	ev.ReceivedAt = store.FromMicros(recv)
	if len(headers) > 0 {
		ev.Headers = http.Header{}
		if err := json.Unmarshal(headers, &ev.Headers); err != nil {
			return ev, fmt.Errorf("sqlite: event %s headers: %w", ev.ID, err)
		}
	}
	if ev.Body == nil && withBody {
		ev.Body = []byte{}
	}
	return ev, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func anySlice(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

var errNoRows = sql.ErrNoRows

func notFound(err error, what string) error {
	if errors.Is(err, errNoRows) {
		return fmt.Errorf("%s: %w", what, webhook.ErrNotFound)
	}
	return fmt.Errorf("%w: %w", webhook.ErrUnavailable, err)
}
