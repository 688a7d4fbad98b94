package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"
)

// where accumulates SQL conditions; each "?" in a condition becomes the
// next numbered parameter.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	var b strings.Builder
	for _, part := range strings.SplitAfter(cond, "?") {
		if strings.HasSuffix(part, "?") {
			w.args = append(w.args, args[0])
			args = args[1:]
			part = part[:len(part)-1] + "$" + strconv.Itoa(len(w.args))
		}
		b.WriteString(part)
	}
	w.conds = append(w.conds, b.String())
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
		states := make([]string, len(f.States))
		for i, s := range f.States {
			states[i] = text(string(s))
		}
		w.add("state = ANY(?)", states)
	}
	if f.Destination != "" {
		w.add("destination = ?", text(f.Destination))
	}
	if f.Route != "" {
		w.add("route = ?", text(f.Route))
	}
	if len(f.ErrorClasses) > 0 {
		w.add("last_error_class = ANY(?)", texts(f.ErrorClasses))
	}
	if f.EventID != "" {
		lo, hi := store.DeliveryIDRange(text(f.EventID))
		w.add("id >= ? AND id < ?", lo, hi)
	}
	if !f.Since.IsZero() {
		w.add("created_at >= ?", store.Micros(f.Since))
	}
	if !f.Until.IsZero() {
		w.add("created_at < ?", store.Micros(f.Until))
	}
	if withCursor && f.Cursor != "" {
		w.add("id < ?", text(f.Cursor))
	}
	return w
}

// notFound maps no rows to webhook.ErrNotFound and anything else to
// webhook.ErrUnavailable.
func (s *Store) notFound(err error, what string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, webhook.ErrNotFound)
	}
	return s.unavailable(what, err)
}

// DeliveryGet implements store.Store.
func (s *Store) DeliveryGet(ctx context.Context, id string) (webhook.Delivery, error) {
	var r deliveryRow
	if err := s.pool.QueryRow(ctx, `SELECT `+deliveryCols+` FROM deliveries WHERE id = $1`, text(id)).Scan(r.dest()...); err != nil {
		return webhook.Delivery{}, s.notFound(err, "delivery "+id)
	}
	return r.delivery(), nil
}

// DeliveryList implements store.Store.
func (s *Store) DeliveryList(ctx context.Context, f store.DeliveryFilter) ([]webhook.Delivery, string, error) {
	limit := store.PageLimit(f.Limit)
	w := deliveryWhere(f, true)
	rows, err := s.pool.Query(ctx, `SELECT `+deliveryCols+` FROM deliveries`+w.sql()+
		` ORDER BY id DESC LIMIT `+strconv.Itoa(limit+1), w.args...)
	if err != nil {
		return nil, "", s.unavailable("list deliveries", err)
	}
	defer rows.Close()
	var out []webhook.Delivery
	for rows.Next() {
		var r deliveryRow
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, "", s.unavailable("list deliveries", err)
		}
		out = append(out, r.delivery())
	}
	if err := rows.Err(); err != nil {
		return nil, "", s.unavailable("list deliveries", err)
	}
	out, next := store.Page(out, limit, func(x *webhook.Delivery) string { return x.ID })
	return out, next, nil
}

// DeliveryCount implements store.Store.
func (s *Store) DeliveryCount(ctx context.Context, f store.DeliveryFilter) (int, error) {
	w := deliveryWhere(f, false)
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM deliveries`+w.sql(), w.args...).Scan(&n); err != nil {
		return 0, s.unavailable("count deliveries", err)
	}
	return n, nil
}

// AttemptList implements store.Store.
func (s *Store) AttemptList(ctx context.Context, deliveryID string) ([]webhook.Attempt, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, delivery_id, number, started_at, duration_us, status_code,
		error_class, error, response_body FROM attempts WHERE delivery_id = $1 ORDER BY id`, text(deliveryID))
	if err != nil {
		return nil, s.unavailable("list attempts", err)
	}
	defer rows.Close()
	var out []webhook.Attempt
	for rows.Next() {
		var a webhook.Attempt
		var started, dur int64
		if err := rows.Scan(&a.ID, &a.DeliveryID, &a.Number, &started, &dur, &a.StatusCode,
			&a.ErrorClass, &a.Error, &a.ResponseBody); err != nil {
			return nil, s.unavailable("list attempts", err)
		}
		a.StartedAt = store.FromMicros(started)
		a.Duration = time.Duration(dur) * time.Microsecond
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, s.unavailable("list attempts", err)
	}
	return out, nil
}

const eventCols = `id, source, provider, topic, dedup_key, received_at, headers`

func scanEvent(row pgx.Row, withBody bool) (webhook.Event, error) {
	var ev webhook.Event
	var recv int64
	var headers []byte
	dest := []any{&ev.ID, &ev.Source, &ev.Provider, &ev.Topic, &ev.DedupKey, &recv, &headers}
	if withBody {
		dest = append(dest, &ev.Body)
	}
	if err := row.Scan(dest...); err != nil {
		return ev, err
	}
	return ev, finishEvent(&ev, recv, headers, withBody)
}

// EventGet implements store.Store.
func (s *Store) EventGet(ctx context.Context, id string) (webhook.Event, error) {
	ev, err := scanEvent(s.pool.QueryRow(ctx, `SELECT `+eventCols+`, body FROM events WHERE id = $1`, text(id)), true)
	if err != nil {
		return webhook.Event{}, s.notFound(err, "event "+id)
	}
	return ev, nil
}

// EventList implements store.Store.
func (s *Store) EventList(ctx context.Context, f store.EventFilter) ([]webhook.Event, string, error) {
	limit := store.PageLimit(f.Limit)
	w := &where{}
	if f.Source != "" {
		w.add("source = ?", text(f.Source))
	}
	if f.Topic != "" {
		w.add("topic = ?", text(f.Topic))
	}
	if f.DedupKey != "" {
		w.add("dedup_key = ?", text(f.DedupKey))
	}
	if f.Query != "" {
		q := text(f.Query)
		w.add(`(id = ? OR (dedup_key COLLATE "C" >= ? AND dedup_key COLLATE "C" < ?))`, q, q, store.PrefixEnd(q))
	}
	if len(f.States) > 0 {
		states := make([]string, len(f.States))
		for i, st := range f.States {
			states[i] = string(st)
		}
		// An event's deliveries are a primary-key range (dlv_<event>.*).
		w.add(`EXISTS (SELECT 1 FROM deliveries d WHERE d.id >= 'dlv_' || substr(events.id, 5) || '.'
			AND d.id < 'dlv_' || substr(events.id, 5) || '/' AND d.state = ANY(?))`, states)
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
		w.add("id < ?", text(f.Cursor))
	}
	rows, err := s.pool.Query(ctx, `SELECT `+eventCols+` FROM events`+w.sql()+
		` ORDER BY id DESC LIMIT `+strconv.Itoa(limit+1), w.args...)
	if err != nil {
		return nil, "", s.unavailable("list events", err)
	}
	defer rows.Close()
	var out []webhook.Event
	for rows.Next() {
		ev, err := scanEvent(rows, false)
		if err != nil {
			return nil, "", s.unavailable("list events", err)
		}
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, "", s.unavailable("list events", err)
	}
	out, next := store.Page(out, limit, func(x *webhook.Event) string { return x.ID })
	return out, next, nil
}
