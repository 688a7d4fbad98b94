package store

import (
	"context"
	"time"
)

// Reconciles stores reconciliation runs and answers which provider keys a
// source has already received. Both stores implement it beside Store; the
// storetest suite RunReconcile proves them.
type Reconciles interface {
	// ReconcileRunSave inserts or replaces the run with r.ID: a run is saved
	// when it starts, after every page (its checkpoint) and when it ends.
	ReconcileRunSave(ctx context.Context, r *ReconcileRun) error
	// ReconcileRunGet returns one run, or webhook.ErrNotFound.
	ReconcileRunGet(ctx context.Context, id string) (ReconcileRun, error)
	// ReconcileRunList lists runs, newest first; source "" lists every
	// source's. limit is clamped like PageLimit.
	ReconcileRunList(ctx context.Context, source string, limit int) ([]ReconcileRun, error)
	// ReconcileRunUnfinished returns the newest run of source still in state
	// running — one a crashed node left behind — with ok false if none.
	ReconcileRunUnfinished(ctx context.Context, source string) (r ReconcileRun, ok bool, err error)
	// EventKeysStored reports which of keys are the dedup key of an event of
	// source. Keys not stored are absent from the map.
	EventKeysStored(ctx context.Context, source string, keys []string) (map[string]bool, error)
}

// Reconcile run states.
const (
	RunRunning = "running"
	RunDone    = "done"
	RunFailed  = "failed"
)

// ReconcileRun is one comparison of a source's received events with its
// provider's API over a window.
type ReconcileRun struct {
	ID      string
	Source  string
	Trigger string // schedule or manual
	State   string // RunRunning, RunDone or RunFailed
	Since   time.Time
	Until   time.Time
	// Listed counts provider objects seen; Matched those already received;
	// Missing those not received; Backfilled the missing ones now stored
	// (or redelivered by the provider); Quarantined the missing ones that
	// failed ingest validation (kept in the quarantine, not delivered);
	// Errors the failures along the way.
	Listed, Matched, Missing, Backfilled, Quarantined, Errors int
	// Cursor is the provider's position after the last completed page; a
	// resumed run continues from it.
	Cursor     string
	LastError  string
	StartedAt  time.Time
	FinishedAt time.Time // zero while running
}

// Duration is how long a finished run took (zero while running).
func (r *ReconcileRun) Duration() time.Duration {
	if r.FinishedAt.IsZero() {
		return 0
	}
	return r.FinishedAt.Sub(r.StartedAt)
}

// ReconcileRunColumns is the column list both stores insert and select,
// in the order ScanReconcileRun reads; ReconcileRunUpdate is what a save
// of an existing run replaces (the window and start stay).
const (
	ReconcileRunColumns = `id, source, trigger_kind, state, window_from, window_to, listed, matched, missing, backfilled,
	errors, cursor, last_error, started_at, finished_at, quarantined`
	ReconcileRunUpdate = `state = excluded.state, listed = excluded.listed,
	matched = excluded.matched, missing = excluded.missing, backfilled = excluded.backfilled, quarantined = excluded.quarantined,
	errors = excluded.errors, cursor = excluded.cursor, last_error = excluded.last_error,
	finished_at = excluded.finished_at`
)

// ScanReconcileRun reads a row of ReconcileRunColumns.
func ScanReconcileRun(row Scanner) (ReconcileRun, error) {
	var r ReconcileRun
	var since, until, started, finished int64
	var listed, matched, missing, backfilled, errs, quarantined int64
	if err := row.Scan(&r.ID, &r.Source, &r.Trigger, &r.State, &since, &until, &listed, &matched,
		&missing, &backfilled, &errs, &r.Cursor, &r.LastError, &started, &finished, &quarantined); err != nil {
		return ReconcileRun{}, err
	}
	r.Listed, r.Matched, r.Missing, r.Backfilled = int(listed), int(matched), int(missing), int(backfilled)
	r.Errors, r.Quarantined = int(errs), int(quarantined)
	r.Since, r.Until = FromMicros(since), FromMicros(until)
	r.StartedAt, r.FinishedAt = FromMicros(started), FromMicros(finished)
	return r, nil
}
