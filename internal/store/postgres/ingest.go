package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"
)

// ingestOp is one Ingest call waiting in the writer queue.
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
		return store.IngestResult{}, fmt.Errorf("postgres: encode headers: %w", err)
	}
	in := &ingestOp{ev: ev, headers: headers, ds: ds}
	err = s.submit(ctx, s.ingests, &op{ing: in, size: len(ev.Body) + len(headers), done: make(chan struct{})})
	if err != nil {
		// The writer may still be filling in.res (a cancelled caller
		// stops waiting for it): do not read it.
		return store.IngestResult{}, err
	}
	return in.res, nil
}

// insertEvents stores a batch of events and their deliveries in one
// statement — so one round trip and one WAL flush, atomically — with the
// columns as arrays: the statement text is the same for every batch size,
// so pgx prepares it once per connection. Deliveries are inserted only for
// the events that were (RETURNING skips duplicates, including a second copy
// in the same batch).
const insertEvents = `WITH ev AS (
	INSERT INTO events (id, source, provider, topic, dedup_key, received_at, headers, body)
	SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bytea[], $8::bytea[])
	ON CONFLICT (source, dedup_key) DO NOTHING
	RETURNING id
), dl AS (
	INSERT INTO deliveries (id, event_id, destination, route, state, priority, ordering_key, order_block, version,
		max_attempts, due_at, ready_at, created_at, updated_at)
	SELECT d.id, d.event_id, d.destination, d.route, 'pending', d.priority, d.ordering_key, d.order_block, d.version,
		d.max_attempts, d.due_at, d.due_at, $19, $19
	FROM unnest($9::text[], $10::text[], $11::text[], $12::text[], $13::int[], $14::text[], $15::bool[], $16::text[],
		$17::int[], $18::bigint[])
		AS d(id, event_id, destination, route, priority, ordering_key, order_block, version, max_attempts, due_at)
	JOIN ev ON ev.id = d.event_id
)
SELECT id FROM ev`

// findEvents returns the stored ids of (source, dedup_key) pairs.
const findEvents = `SELECT e.source, e.dedup_key, e.id FROM events e
	JOIN unnest($1::text[], $2::text[]) AS k(source, dedup_key) ON e.source = k.source AND e.dedup_key = k.dedup_key`

// ingestBatch inserts the batch's events and deliveries, then looks up the
// existing events of any duplicates. Rows go in (source, dedup_key) order:
// two nodes whose batches share keys then wait on each other's rows in the
// same order and cannot deadlock.
func (s *Store) ingestBatch(batch []*op) error {
	ins := make([]*ingestOp, len(batch))
	for i, o := range batch {
		ins[i] = o.ing
	}
	slices.SortStableFunc(ins, func(a, b *ingestOp) int {
		return cmp.Or(cmp.Compare(a.ev.Source, b.ev.Source), cmp.Compare(a.ev.DedupKey, b.ev.DedupKey))
	})
	n := len(ins)
	var (
		ids, sources, providers, topics, keys = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		received                              = make([]int64, n)
		headers, bodies                       = make([][]byte, n), make([][]byte, n)
		d                                     deliveryRows
	)
	for i, in := range ins {
		ev := in.ev
		ids[i], sources[i], providers[i] = text(ev.ID), text(ev.Source), text(ev.Provider)
		topics[i], keys[i], received[i] = text(ev.Topic), text(ev.DedupKey), store.Micros(ev.ReceivedAt)
		headers[i], bodies[i] = in.headers, nonNil(ev.Body)
		for j, nd := range in.ds {
			d.add(ids[i], j, received[i], nd)
		}
	}
	now := store.Micros(s.now())
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	// A failed attempt is simply run again, unless the server rejected the
	// data: the statement is idempotent (a committed first attempt makes
	// the second find its own events, which the lookup below recognises),
	// so even a connection lost while committing costs a retry, not a 503.
	var inserted map[string]bool
	var err error
	for try := 0; try < 3; try++ {
		inserted, err = s.insertBatch(ctx, ids, sources, providers, topics, keys, received, headers, bodies, &d, now)
		if err == nil || isDataError(err) || ctx.Err() != nil {
			break
		}
		s.resetIfLost(err)
	}
	if err != nil {
		return err
	}
	var dupSources, dupKeys []string
	for i, in := range ins {
		in.res = store.IngestResult{EventID: in.ev.ID}
		if !inserted[ids[i]] {
			in.res.Duplicate = true
			dupSources, dupKeys = append(dupSources, sources[i]), append(dupKeys, keys[i])
		}
	}
	if len(dupKeys) == 0 {
		return nil
	}
	// A duplicate's event is committed (by another node, an earlier batch,
	// this statement for a second copy in the batch, or a first attempt of
	// this batch), so this read, in a fresh snapshot, sees it.
	found := make(map[[2]string]string, len(dupKeys))
	rows, err := s.pool.Query(ctx, findEvents, dupSources, dupKeys)
	if err != nil {
		return err
	}
	for rows.Next() {
		var src, key, id string
		if err := rows.Scan(&src, &key, &id); err != nil {
			rows.Close()
			return err
		}
		found[[2]string{src, key}] = id
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for i, in := range ins {
		if in.res.Duplicate {
			id, ok := found[[2]string{sources[i], keys[i]}]
			if !ok {
				return fmt.Errorf("postgres: event %s neither inserted nor found", in.ev.ID)
			}
			// Its own id: a retried batch whose first attempt committed.
			in.res.EventID, in.res.Duplicate = id, id != ids[i]
		}
	}
	return nil
}

func (s *Store) insertBatch(ctx context.Context, ids, sources, providers, topics, keys []string, received []int64,
	headers, bodies [][]byte, d *deliveryRows, now int64) (map[string]bool, error) {
	rows, err := s.pool.Query(ctx, insertEvents, ids, sources, providers, topics, keys, received, headers, bodies,
		d.id, d.eventID, d.destination, d.route, d.priority, d.orderingKey, d.orderBlock, d.version, d.maxAttempts,
		d.dueAt, now)
	if err != nil {
		return nil, err
	}
	inserted := make(map[string]bool, len(ids))
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		inserted[id] = true
	}
	return inserted, rows.Err()
}

// deliveryRows holds new deliveries column by column, for unnest.
type deliveryRows struct {
	id, eventID, destination, route, orderingKey, version []string
	priority, maxAttempts                                 []int32
	orderBlock                                            []bool
	dueAt                                                 []int64
}

func (r *deliveryRows) add(eventID string, i int, due int64, d webhook.NewDelivery) {
	r.id = append(r.id, store.DeliveryID(eventID, i))
	r.eventID = append(r.eventID, eventID)
	r.destination = append(r.destination, text(d.Destination))
	r.route = append(r.route, text(d.Route))
	r.priority = append(r.priority, int32(d.Priority))
	r.orderingKey = append(r.orderingKey, text(d.OrderingKey))
	r.orderBlock = append(r.orderBlock, d.BlockOnDead)
	r.version = append(r.version, text(d.Version))
	r.maxAttempts = append(r.maxAttempts, int32(d.MaxAttempts))
	r.dueAt = append(r.dueAt, due)
}

// wake queues destinations for the notifier. It never blocks the writer.
func (s *Store) wake(dests []string) {
	if len(dests) == 0 {
		return
	}
	s.notifyMu.Lock()
	for _, d := range dests {
		s.notifyPending[d] = struct{}{}
	}
	s.notifyMu.Unlock()
	select {
	case s.notifyKick <- struct{}{}:
	default:
	}
}

// maxNotifyPayload stays under PostgreSQL's 8000-byte NOTIFY payload limit.
const maxNotifyPayload = 7000

// notifier sends the NOTIFYs for committed ingests: one notification
// carrying every destination (newline-separated) that gained work since
// the last one. It runs apart from the writer, after the commit that made
// the work visible, so waking other nodes never delays an ingest; under
// load many batches share one notification. Each NOTIFY runs in its own
// transaction with synchronous_commit off: NOTIFY needs a transaction id
// and so a commit record, and a wake-up is not worth a WAL flush (the
// engine's idle poll covers a lost one).
func (s *Store) notifier() {
	defer close(s.notifyDone)
	for {
		select {
		case <-s.notifyKick:
		case <-s.stopped:
			s.flushNotify()
			return
		}
		s.flushNotify()
	}
}

func (s *Store) flushNotify() {
	s.notifyMu.Lock()
	pending := s.notifyPending
	if len(pending) == 0 {
		s.notifyMu.Unlock()
		return
	}
	s.notifyPending = make(map[string]struct{}, len(pending))
	s.notifyMu.Unlock()
	b := &pgx.Batch{}
	b.Queue(`BEGIN`)
	b.Queue(`SET LOCAL synchronous_commit TO off`)
	payload := ""
	for d := range pending {
		if payload != "" && len(payload)+1+len(d) > maxNotifyPayload {
			b.Queue(`SELECT pg_notify($1, $2)`, s.channel, payload)
			payload = ""
		}
		if payload != "" {
			payload += "\n"
		}
		payload += d
	}
	b.Queue(`SELECT pg_notify($1, $2)`, s.channel, payload)
	b.Queue(`COMMIT`)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// A failed NOTIFY only delays other nodes until their idle poll; it is
	// not an ingest failure.
	_ = s.pool.SendBatch(ctx, b).Close()
}
