package main

import (
	"context"
	"log/slog"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/leader"
	"github.com/hookyard/hookyard/internal/retention"
	"github.com/hookyard/hookyard/internal/store"
)

// startRetention runs the retention job (storage.retention) until ctx
// ends; the returned channel closes when it has stopped, so the store is
// closed only after it. Every node runs the job; only the leader deletes.
func startRetention(ctx context.Context, cfg *config.Config, st store.Store, el leader.Elector, log *slog.Logger) <-chan struct{} {
	done := make(chan struct{})
	r := cfg.Storage.Retention
	rs, ok := st.(interface {
		store.Retention
		store.Audit
	})
	if !ok || (r.MaxAge <= 0 && r.AuditMaxAge <= 0) {
		close(done)
		return done
	}
	j := retention.New(rs, el, retention.Config{MaxAge: r.MaxAge.D(), DeadMaxAge: r.DeadMaxAge.D(), AuditMaxAge: r.AuditMaxAge.D(),
		Interval: r.Interval.D(), BatchSize: r.BatchSize, Logger: log})
	go func() {
		defer close(done)
		j.Run(ctx)
	}()
	return done
}
