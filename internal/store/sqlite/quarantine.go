package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"
)

// Quarantine implements store.Store.
func (s *Store) Quarantine(ctx context.Context, ev *webhook.Event, reason string) error {
	headers, err := json.Marshal(ev.Headers)
	if err != nil {
		return fmt.Errorf("sqlite: encode headers: %w", err)
	}
	return s.write(ctx, len(ev.Body)+len(headers), func(ctx context.Context) error {
		_, err := s.w.ExecContext(ctx, `INSERT INTO quarantine (id, source, provider, topic, dedup_key, received_at,
			headers, body, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			ev.ID, ev.Source, ev.Provider, ev.Topic, ev.DedupKey, store.Micros(ev.ReceivedAt), headers, ev.Body, truncate(reason, 1024))
		return err
	})
}

// QuarantineList implements store.Store.
func (s *Store) QuarantineList(ctx context.Context, f store.QuarantineFilter) ([]webhook.Quarantined, string, error) {
	limit := store.PageLimit(f.Limit)
	w := &where{}
	if f.Source != "" {
		w.add("source = ?", f.Source)
	}
	if f.Cursor != "" {
		w.add("id < ?", f.Cursor)
	}
	body := "''"
	if f.WithBody {
		body = "body"
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT id, source, provider, topic, dedup_key, received_at, headers, `+body+`,
		reason FROM quarantine`+w.sql()+` ORDER BY id DESC LIMIT `+itoa(limit+1), w.args...)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", webhook.ErrUnavailable, err)
	}
	defer rows.Close()
	var out []webhook.Quarantined
	for rows.Next() {
		var q webhook.Quarantined
		var recv int64
		var headers []byte
		if err := rows.Scan(&q.Event.ID, &q.Event.Source, &q.Event.Provider, &q.Event.Topic, &q.Event.DedupKey,
			&recv, &headers, &q.Event.Body, &q.Reason); err != nil {
			return nil, "", err
		}
		q.Event.ReceivedAt = store.FromMicros(recv)
		if err := json.Unmarshal(headers, &q.Event.Headers); err != nil {
			return nil, "", err
		}
		if !f.WithBody {
			q.Event.Body = nil
		}
		out = append(out, q)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	out, next := store.Page(out, limit, func(x *webhook.Quarantined) string { return x.Event.ID })
	return out, next, nil
}
