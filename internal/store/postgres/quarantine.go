package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"
)

// Quarantine implements store.Store. Quarantined requests are rare, so each
// is its own statement rather than a trip through the ingest writer.
func (s *Store) Quarantine(ctx context.Context, ev *webhook.Event, reason string) error {
	headers, err := json.Marshal(ev.Headers)
	if err != nil {
		return fmt.Errorf("postgres: encode headers: %w", err)
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO quarantine (id, source, provider, topic, dedup_key, received_at,
		headers, body, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`,
		text(ev.ID), text(ev.Source), text(ev.Provider), text(ev.Topic), text(ev.DedupKey), store.Micros(ev.ReceivedAt),
		headers, nonNil(ev.Body), text(truncate(reason, 1024)))
	return s.unavailable("quarantine", err)
}

// QuarantineList implements store.Store.
func (s *Store) QuarantineList(ctx context.Context, f store.QuarantineFilter) ([]webhook.Quarantined, string, error) {
	limit := store.PageLimit(f.Limit)
	w := &where{}
	if f.Source != "" {
		w.add("source = ?", text(f.Source))
	}
	if f.Cursor != "" {
		w.add("id < ?", text(f.Cursor))
	}
	body := "''::bytea"
	if f.WithBody {
		body = "body"
	}
	rows, err := s.pool.Query(ctx, `SELECT `+eventCols+`, `+body+`, reason FROM quarantine`+w.sql()+
		` ORDER BY id DESC LIMIT `+strconv.Itoa(limit+1), w.args...)
	if err != nil {
		return nil, "", s.unavailable("list quarantine", err)
	}
	defer rows.Close()
	var out []webhook.Quarantined
	for rows.Next() {
		var q webhook.Quarantined
		var recv int64
		var headers []byte
		ev := &q.Event
		if err := rows.Scan(&ev.ID, &ev.Source, &ev.Provider, &ev.Topic, &ev.DedupKey, &recv, &headers, &ev.Body,
			&q.Reason); err != nil {
			return nil, "", s.unavailable("list quarantine", err)
		}
		if err := finishEvent(ev, recv, headers, f.WithBody); err != nil {
			return nil, "", err
		}
		if !f.WithBody {
			ev.Body = nil
		}
		out = append(out, q)
	}
	if err := rows.Err(); err != nil {
		return nil, "", s.unavailable("list quarantine", err)
	}
	out, next := store.Page(out, limit, func(x *webhook.Quarantined) string { return x.Event.ID })
	return out, next, nil
}
