package postgres

import (
	"context"
	"fmt"

	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"
)

// Outcomes (success, retry, dead) go through a writer goroutine that
// applies whatever is queued as one statement, like ingests. Measured with
// BenchmarkClaimComplete's shape (32 workers, claims of 4, 30k deliveries)
// on the 2-core box, alternating six runs each: one statement per outcome
// straight on the pool drained a median ~2.7k deliveries/s (2.3–3.4k),
// the batching writer ~4.2k/s (3.7–6.0k). Each outcome committed alone
// waits for its own WAL flush (pg_stat_activity showed WALWrite/WALSync
// waits dominating); batched, one flush covers the batch.

// outcomeOp is one DeliverySucceed, DeliveryRetry or DeliveryDead waiting
// for the outcome writer.
type outcomeOp struct {
	id        string
	token     int64
	state     webhook.State // succeeded, pending (retry) or dead
	due       int64         // next attempt, for a retry
	lastError string
	lastClass string
	a         *webhook.Attempt
	lost      bool
}

// outcomeQuery applies a batch of outcomes in one statement: each row's
// fenced UPDATE (id, lease token, in flight) and, for the rows that
// applied, the attempt. RETURNING the row number tells each caller whether
// its write won: a stale worker's outcome for the same delivery may share
// the batch, and only the current token matches.
const outcomeQuery = `WITH v AS (
	SELECT * FROM unnest($1::int[], $2::text[], $3::bigint[], $4::text[], $5::bigint[], $6::text[], $7::text[],
		$8::int[], $9::bigint[], $10::bigint[], $11::int[], $12::text[], $13::text[], $14::bytea[])
		AS v(n, id, token, state, due_at, last_error, last_error_class,
			number, started_at, duration_us, status_code, error_class, error, response_body)
), u AS (
	UPDATE deliveries d SET state = v.state, attempts = d.attempts + 1, lease_owner = '',
		due_at = CASE WHEN v.state = 'pending' THEN v.due_at ELSE d.due_at END,
		ready_at = CASE WHEN v.state = 'pending' THEN v.due_at ELSE d.ready_at END,
		last_error = v.last_error, last_error_class = v.last_error_class, updated_at = $15,
		completed_at = CASE WHEN v.state = 'pending' THEN d.completed_at ELSE $15 END
	FROM v
	WHERE d.id = v.id AND d.lease_token = v.token AND d.state = 'inflight'
	RETURNING v.n
), a AS (
	INSERT INTO attempts (delivery_id, number, started_at, duration_us, status_code, error_class, error, response_body)
	SELECT v.id, v.number, v.started_at, v.duration_us, v.status_code, v.error_class, v.error, v.response_body
	FROM v JOIN u ON u.n = v.n
)
SELECT n FROM u`

func (s *Store) outcome(ctx context.Context, o *outcomeOp) error {
	if err := s.submit(ctx, s.outcomes, &op{out: o, size: 256 + len(o.a.ResponseBody), done: make(chan struct{})}); err != nil {
		return err
	}
	if o.lost {
		return fmt.Errorf("delivery %s: %w", o.id, webhook.ErrLeaseLost)
	}
	return nil
}

// runOutcomes commits a batch of outcomes; like runIngests, a data error
// in a batch retries each outcome alone.
func (s *Store) runOutcomes(batch []*op) {
	err := s.outcomeBatch(batch)
	if err != nil && len(batch) > 1 && isDataError(err) {
		for _, o := range batch {
			o.err = s.outcomeBatch([]*op{o})
		}
	} else {
		for _, o := range batch {
			o.err = err
		}
	}
	for _, o := range batch {
		if o.err != nil {
			o.err = s.unavailable("delivery "+o.out.id, o.err)
		}
		close(o.done)
	}
}

func (s *Store) outcomeBatch(batch []*op) error {
	n := len(batch)
	var (
		idx, number, status                = make([]int32, n), make([]int32, n), make([]int32, n)
		ids, states, lastErrs, lastClasses = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		classes, errs                      = make([]string, n), make([]string, n)
		tokens, dues, started, durations   = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		bodies                             = make([][]byte, n)
	)
	for i, o := range batch {
		out, a := o.out, o.out.a
		out.lost = true
		body := a.ResponseBody
		if len(body) > webhook.MaxAttemptResponse {
			body = body[:webhook.MaxAttemptResponse]
		}
		idx[i], ids[i], tokens[i], states[i], dues[i] = int32(i), text(out.id), out.token, string(out.state), out.due
		lastErrs[i], lastClasses[i] = text(truncate(out.lastError, 1024)), text(out.lastClass)
		number[i], started[i], durations[i], status[i] = int32(a.Number), store.Micros(a.StartedAt), a.Duration.Microseconds(), int32(a.StatusCode)
		classes[i], errs[i], bodies[i] = text(a.ErrorClass), text(a.Error), body
	}
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	var err error
	for try := 0; try < 3; try++ {
		rows, qerr := s.pool.Query(ctx, outcomeQuery, idx, ids, tokens, states, dues, lastErrs, lastClasses,
			number, started, durations, status, classes, errs, bodies, store.Micros(s.now()))
		err = qerr
		if err == nil {
			for rows.Next() {
				var i int32
				if err = rows.Scan(&i); err != nil {
					break
				}
				batch[i].out.lost = false
			}
			rows.Close()
			if err == nil {
				err = rows.Err()
			}
		}
		// Unlike an ingest, an outcome is retried only when it certainly did
		// not commit: a second run of a committed batch would find its rows
		// no longer in flight and report the winners' leases as lost.
		s.resetIfLost(err)
		if err == nil || !retryable(err) {
			break
		}
		for _, o := range batch {
			o.out.lost = true
		}
	}
	return err
}
