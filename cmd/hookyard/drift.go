package main

import (
	"context"
	"log/slog"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/drift"
	"github.com/hookyard/hookyard/internal/ingest"
	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"
)

// newDrift builds the schema drift tracker when drift.enabled is set; nil
// otherwise.
func newDrift(cfg *config.Config, st store.Store, obs drift.Observer, log *slog.Logger) (*drift.Tracker, error) {
	if !cfg.Drift.Enabled {
		return nil, nil
	}
	ds, ok := st.(store.Drift)
	if !ok {
		return nil, cfg.Errorf("drift.enabled", "storage driver %s does not keep schema drift", cfg.Storage.Driver)
	}
	return drift.New(drift.Config{Store: ds, BaselineAfter: cfg.Drift.Baseline(), MaxPaths: cfg.Drift.Paths(),
		FlushEvery: cfg.Drift.FlushInterval.D(), Observer: obs, Logger: log}), nil
}

// driftIngest is the store ingest writes through while drift tracking is
// on: each newly stored event is handed to the tracker, which queues it
// without blocking, so the ACK does not wait for the body to be shaped.
// Duplicates are not counted twice.
type driftIngest struct {
	ingest.Store
	tracker *drift.Tracker
}

func (d driftIngest) Ingest(ctx context.Context, ev *webhook.Event, ds []webhook.NewDelivery) (store.IngestResult, error) {
	res, err := d.Store.Ingest(ctx, ev, ds)
	if err == nil && !res.Duplicate {
		d.tracker.Observe(ev)
	}
	return res, err
}
