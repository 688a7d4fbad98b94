package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"
)

// where accumulates SQL conditions and their arguments.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

func deliveryWhere(f store.DeliveryFilter, withCursor bool) *where {
	w := &where{}
	if len(f.States) > 0 {
		// States are written as literals, not bound: SQLite uses a partial
		// index only when the query's own text implies the index's WHERE,
		// so "state = 'dead'" reads the small deliveries_dead index where
		// "state IN (?)" scanned deliveries until it found a page of dead
		// ones (see docs/BENCHMARKS.md, console). Only valid states are
		// written, so no input reaches the SQL text.
		// One state is written "state = 'dead'": SQLite does not see
		// that "state IN ('dead')" implies the index's WHERE.
		lits := make([]string, 0, len(f.States))
		for _, s := range f.States {
			if s.Valid() {
				lits = append(lits, "'"+string(s)+"'")
			}
		}
		switch len(lits) {
		case 0:
			w.add("0") // only unknown states: nothing matches
		case 1:
			w.add("state = " + lits[0])
		default:
			w.add("state IN (" + strings.Join(lits, ", ") + ")")
		}
	}
	if f.Destination != "" {
		w.add("destination = ?", f.Destination)
	}
	if f.Route != "" {
		w.add("route = ?", f.Route)
	}
	if len(f.ErrorClasses) > 0 {
		args := make([]any, len(f.ErrorClasses))
		for i, c := range f.ErrorClasses {
			args[i] = c
		}
		w.add("last_error_class IN ("+placeholders(len(args))+")", args...)
	}
	if f.EventID != "" {
		lo, hi := store.DeliveryIDRange(f.EventID)
		w.add("id >= ? AND id < ?", lo, hi)
	}
	if !f.Since.IsZero() {
		w.add("created_at >= ?", store.Micros(f.Since))
	}
	if !f.Until.IsZero() {
		w.add("created_at < ?", store.Micros(f.Until))
	}
	if withCursor && f.Cursor != "" {
		w.add("id < ?", f.Cursor)
	}
	return w
}

// DeliveryGet implements store.Store.
func (s *Store) DeliveryGet(ctx context.Context, id string) (webhook.Delivery, error) {
	d, err := scanDelivery(s.rdb.QueryRowContext(ctx, `SELECT `+deliverySelect+` FROM deliveries WHERE id = ?`, id))
	if err != nil {
		return d, notFound(err, "delivery "+id)
	}
	return d, nil
}

// DeliveryList implements store.Store.
func (s *Store) DeliveryList(ctx context.Context, f store.DeliveryFilter) ([]webhook.Delivery, string, error) {
	limit := store.PageLimit(f.Limit)
	query, args := deliveryListSQL(f, limit)
	rows, err := s.rdb.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", webhook.ErrUnavailable, err)
	}
	defer rows.Close()
	var out []webhook.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	out, next := store.Page(out, limit, func(x *webhook.Delivery) string { return x.ID })
	return out, next, nil
}

// deliveryListSQL is DeliveryList's statement (one more row than limit,
// to know whether another page follows).
func deliveryListSQL(f store.DeliveryFilter, limit int) (string, []any) {
	w := deliveryWhere(f, true)
	return `SELECT ` + deliverySelect + ` FROM deliveries` + w.sql() + ` ORDER BY id DESC LIMIT ` + itoa(limit+1), w.args
}

// DeliveryCount implements store.Store.
func (s *Store) DeliveryCount(ctx context.Context, f store.DeliveryFilter) (int, error) {
	w := deliveryWhere(f, false)
	var n int
	if err := s.rdb.QueryRowContext(ctx, `SELECT count(*) FROM deliveries`+w.sql(), w.args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("%w: %w", webhook.ErrUnavailable, err)
	}
	return n, nil
}

// AttemptList implements store.Store.
func (s *Store) AttemptList(ctx context.Context, deliveryID string) ([]webhook.Attempt, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT id, delivery_id, number, started_at, duration_us, status_code,
		error_class, error, response_body FROM attempts WHERE delivery_id = ? ORDER BY id`, deliveryID)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", webhook.ErrUnavailable, err)
	}
	defer rows.Close()
	var out []webhook.Attempt
	for rows.Next() {
		var a webhook.Attempt
		var started, dur int64
		if err := rows.Scan(&a.ID, &a.DeliveryID, &a.Number, &started, &dur, &a.StatusCode,
			&a.ErrorClass, &a.Error, &a.ResponseBody); err != nil {
			return nil, err
		}
		a.StartedAt = store.FromMicros(started)
		a.Duration = micro(dur)
		out = append(out, a)
	}
	return out, rows.Err()
}

// EventGet implements store.Store.
func (s *Store) EventGet(ctx context.Context, id string) (webhook.Event, error) {
	ev, err := scanEvent(s.rdb.QueryRowContext(ctx, `SELECT id, source, provider, topic, dedup_key, received_at,
		headers, body FROM events WHERE id = ?`, id), true)
	if err != nil {
		return ev, notFound(err, "event "+id)
	}
	return ev, nil
}

// EventList implements store.Store.
func (s *Store) EventList(ctx context.Context, f store.EventFilter) ([]webhook.Event, string, error) {
	limit := store.PageLimit(f.Limit)
	query, args := eventListSQL(f, limit)
	rows, err := s.rdb.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", webhook.ErrUnavailable, err)
	}
	defer rows.Close()
	var out []webhook.Event
	for rows.Next() {
		ev, err := scanEvent(rows, false)
		if err != nil {
			return nil, "", err
		}
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	out, next := store.Page(out, limit, func(x *webhook.Event) string { return x.ID })
	return out, next, nil
}

// eventListSQL is EventList's statement (one more row than limit, to
// know whether another page follows).
func eventListSQL(f store.EventFilter, limit int) (string, []any) {
	w := &where{}
	if f.Source != "" {
		// "+source" keeps SQLite off the unique (source, dedup_key) index,
		// through which it read and sorted every event of the source (0.7 s
		// a page over a million events); the id order of the primary key
		// with source as a filter serves pages at once. An index on
		// (source, id) would also, but costs every ingest (docs/BENCHMARKS.md).
		w.add("+source = ?", f.Source)
	}
	if f.Topic != "" {
		w.add("topic = ?", f.Topic)
	}
	if f.DedupKey != "" {
		w.add("dedup_key = ?", f.DedupKey)
	}
	if f.Query != "" {
		w.add("(id = ? OR (dedup_key >= ? AND dedup_key < ?))", f.Query, f.Query, store.PrefixEnd(f.Query))
	}
	if len(f.States) > 0 {
		// An event's deliveries are a primary-key range (dlv_<event>.*).
		w.add(`EXISTS (SELECT 1 FROM deliveries d WHERE d.id >= 'dlv_' || substr(events.id, 5) || '.'
			AND d.id < 'dlv_' || substr(events.id, 5) || '/' AND d.state IN (`+placeholders(len(f.States))+`))`,
			stateArgs(f.States)...)
	}
	// Ids are time-ordered, so time bounds become id bounds and the primary
	// key serves both the range and the order.
	if !f.Since.IsZero() {
		w.add("id >= ?", webhook.NewIDBound("evt_", f.Since, false))
	}
	if !f.Until.IsZero() {
		w.add("id < ?", webhook.NewIDBound("evt_", f.Until, false))
	}
	if f.Cursor != "" {
		w.add("id < ?", f.Cursor)
	}
	return `SELECT id, source, provider, topic, dedup_key, received_at, headers FROM events` + w.sql() +
		` ORDER BY id DESC LIMIT ` + itoa(limit+1), w.args
}

func micro(us int64) time.Duration { return time.Duration(us) * time.Microsecond }

func stateArgs(states []webhook.State) []any {
	out := make([]any, len(states))
	for i, s := range states {
		out[i] = string(s)
	}
	return out
}
