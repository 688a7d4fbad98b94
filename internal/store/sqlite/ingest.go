package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"
)

// ingestOp is one Ingest call waiting in the writer queue. The writer
// inserts all ingests of a batch with one multi-row INSERT per table, which
// costs far less per event than a statement each.
type ingestOp struct {
	ev      *webhook.Event
	headers []byte
	ds      []webhook.NewDelivery
	res     store.IngestResult
}

// Ingest implements store.Store.
func (s *Store) Ingest(ctx context.Context, ev *webhook.Event, ds []webhook.NewDelivery) (store.IngestResult, error) {
	headers, err := json.Marshal(ev.Headers)
	if err != nil {
		return store.IngestResult{}, fmt.Errorf("sqlite: encode headers: %w", err)
	}
	in := &ingestOp{ev: ev, headers: headers, ds: ds}
	err = s.submit(ctx, &op{ing: in, size: len(ev.Body) + len(headers), done: make(chan struct{})})
	if err != nil {
		return store.IngestResult{}, err
	}
	return in.res, nil
}

const (
	eventCols        = 8
	deliveryCols     = 10
	maxRowsPerInsert = 400
)

// ingestGroup inserts every ingest op of batch: events first (duplicates
// skipped by the unique constraint and reported), then the deliveries of
// the events that were new.
func (s *Store) ingestGroup(ctx context.Context, batch []*op) error {
	var ins []*ingestOp
	for _, o := range batch {
		if o.ing != nil {
			o.ing.res = store.IngestResult{EventID: o.ing.ev.ID}
			ins = append(ins, o.ing)
		}
	}
	if len(ins) == 0 {
		return nil
	}
	inserted := make(map[string]bool, len(ins))
	for start := 0; start < len(ins); start += maxRowsPerInsert {
		chunk := ins[start:min(len(ins), start+maxRowsPerInsert)]
		args := make([]any, 0, len(chunk)*eventCols)
		for _, in := range chunk {
			ev := in.ev
			args = append(args, ev.ID, ev.Source, ev.Provider, ev.Topic, ev.DedupKey, store.Micros(ev.ReceivedAt), in.headers, ev.Body)
		}
		st, err := s.cached(ctx, "events", len(chunk), func() string {
			return `INSERT INTO events (id, source, provider, topic, dedup_key, received_at, headers, body)
			VALUES ` + rowsOf(len(chunk), eventCols) + ` ON CONFLICT (source, dedup_key) DO NOTHING RETURNING id`
		})
		if err != nil {
			return err
		}
		rows, err := st.QueryContext(ctx, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			inserted[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	now := store.Micros(s.now())
	var dargs []any
	n := 0
	flush := func() error {
		if n == 0 {
			return nil
		}
		st, err := s.cached(ctx, "deliveries", n, func() string {
			return `INSERT INTO deliveries (id, event_id, destination, route, state, priority,
			ordering_key, order_block, version, max_attempts, due_at, ready_at, created_at, updated_at) VALUES ` + rowsOfState(n)
		})
		if err == nil {
			_, err = st.ExecContext(ctx, dargs...)
		}
		dargs, n = dargs[:0], 0
		return err
	}
	for _, in := range ins {
		if !inserted[in.ev.ID] {
			in.res.Duplicate = true
			if err := s.st.findEvent.QueryRowContext(ctx, in.ev.Source, in.ev.DedupKey).Scan(&in.res.EventID); err != nil {
				if err == sql.ErrNoRows {
					return fmt.Errorf("sqlite: event %s neither inserted nor found", in.ev.ID)
				}
				return err
			}
			continue
		}
		recv := store.Micros(in.ev.ReceivedAt)
		for i, d := range in.ds {
			dargs = append(dargs, store.DeliveryID(in.ev.ID, i), in.ev.ID, d.Destination, d.Route, d.Priority,
				d.OrderingKey, d.BlockOnDead, d.Version, d.MaxAttempts, recv, recv, now, now)
			n++
			if n == maxRowsPerInsert {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	return flush()
}

// rowsOf returns n parenthesised groups of cols placeholders.
func rowsOf(n, cols int) string {
	one := "(" + placeholders(cols) + ")"
	return strings.TrimSuffix(strings.Repeat(one+", ", n), ", ")
}

// rowsOfState is rowsOf for deliveries, with the constant state 'pending'.
func rowsOfState(n int) string {
	one := "(?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	return strings.TrimSuffix(strings.Repeat(one+", ", n), ", ")
}

// cached returns the writer's prepared statement for an n-row insert into
// table, preparing it on first use: batches repeat their sizes, and parsing
// a multi-row statement costs more than running it. Only the writer
// goroutine calls it.
func (s *Store) cached(ctx context.Context, table string, n int, query func() string) (*sql.Stmt, error) {
	key := stmtKey{table, n}
	if st, ok := s.stmtCache[key]; ok {
		return st, nil
	}
	st, err := s.w.PrepareContext(ctx, query())
	if err != nil {
		return nil, err
	}
	s.stmtCache[key] = st
	return st, nil
}

type stmtKey struct {
	table string
	n     int
}
