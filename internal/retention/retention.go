// Package retention deletes old finished work — events whose deliveries
// all ended, with their deliveries and attempts, and old quarantined
// requests — so that the database stops growing. It runs on the cluster
// leader only, in small batches with a pause between them, so that it
// never holds ingest back for long (on SQLite every batch is one turn of
// the single writer).
package retention

import (
	"cmp"
	"context"
	"log/slog"
	"time"

	"github.com/hookyard/hookyard/internal/store"
)

// Store is what the job needs of the store.
type Store interface {
	RetentionDelete(ctx context.Context, p store.RetentionParams) (store.RetentionResult, error)
	AuditPrune(ctx context.Context, before time.Time, limit int) (int, error)
}

// Elector tells whether this node leads the cluster (leader.Elector).
type Elector interface{ IsLeader() bool }

// Config holds the job's settings; zero values take defaults.
type Config struct {
	// MaxAge: finished events received longer ago are deleted; zero keeps
	// them.
	MaxAge time.Duration
	// AuditMaxAge: audit-log entries recorded longer ago are deleted;
	// zero keeps them. (The caller starts the job only when one of the
	// two is set.)
	AuditMaxAge time.Duration
	// DeadMaxAge: events with a dead-lettered delivery are deleted only
	// once received longer ago than this; zero keeps them until they are
	// replayed or cancelled.
	DeadMaxAge time.Duration
	// Interval between runs; default 10m.
	Interval time.Duration
	// BatchSize is the number of events (and of quarantined requests)
	// per transaction; default 500.
	BatchSize int
	// Pause between batches, which lets ingest and delivery writes in;
	// default 100ms.
	Pause  time.Duration
	Now    func() time.Time
	Logger *slog.Logger
}

// Job is the retention job of one node.
type Job struct {
	st  Store
	el  Elector
	cfg Config
	log *slog.Logger
}

// New returns a job; Run starts it.
func New(st Store, el Elector, cfg Config) *Job {
	cfg.Interval = cmp.Or(cfg.Interval, 10*time.Minute)
	cfg.BatchSize = store.RetentionLimit(cfg.BatchSize)
	cfg.Pause = cmp.Or(cfg.Pause, 100*time.Millisecond)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Job{st: st, el: el, cfg: cfg, log: log}
}

// Run runs the job every Interval until ctx ends; a node that does not
// lead skips its turn.
func (j *Job) Run(ctx context.Context) {
	t := time.NewTicker(j.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !j.el.IsLeader() {
			continue
		}
		res, err := j.Once(ctx)
		if err != nil && ctx.Err() == nil {
			j.log.Error("retention failed", "error", err.Error(), "events_deleted", res.Events)
			continue
		}
		if res.Events+res.Quarantined+res.Audit > 0 {
			j.log.Info("retention", "events_deleted", res.Events, "deliveries_deleted", res.Deliveries,
				"attempts_deleted", res.Attempts, "quarantined_deleted", res.Quarantined, "audit_entries_deleted", res.Audit)
		}
	}
}

// Result counts what one run deleted.
type Result struct {
	store.RetentionResult
	Audit int // audit-log entries
}

// Once deletes everything due now, batch by batch, while this node leads,
// and returns the totals.
func (j *Job) Once(ctx context.Context) (Result, error) {
	var total Result
	if j.cfg.MaxAge > 0 {
		var err error
		if total.RetentionResult, err = j.events(ctx); err != nil {
			return total, err
		}
	}
	if j.cfg.AuditMaxAge > 0 {
		before := j.cfg.Now().Add(-j.cfg.AuditMaxAge)
		for j.el.IsLeader() {
			n, err := j.st.AuditPrune(ctx, before, j.cfg.BatchSize)
			total.Audit += n
			if err != nil || n < j.cfg.BatchSize {
				return total, err
			}
			if err := j.pause(ctx); err != nil {
				return total, err
			}
		}
	}
	return total, nil
}

func (j *Job) pause(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(j.cfg.Pause):
		return nil
	}
}

// events deletes old finished events and quarantined requests.
func (j *Job) events(ctx context.Context) (store.RetentionResult, error) {
	now := j.cfg.Now()
	p := store.RetentionParams{Before: now.Add(-j.cfg.MaxAge), Limit: j.cfg.BatchSize}
	if j.cfg.DeadMaxAge > 0 {
		p.DeadBefore = now.Add(-j.cfg.DeadMaxAge)
	}
	var total store.RetentionResult
	for j.el.IsLeader() {
		res, err := j.st.RetentionDelete(ctx, p)
		if err != nil {
			return total, err
		}
		total.Events += res.Events
		total.Deliveries += res.Deliveries
		total.Attempts += res.Attempts
		total.Quarantined += res.Quarantined
		if res.Next != "" {
			p.After = res.Next
		}
		if res.Examined < p.Limit && res.Quarantined < p.Limit {
			break
		}
		if err := j.pause(ctx); err != nil {
			return total, err
		}
	}
	return total, nil
}
