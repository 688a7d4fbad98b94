package main

import (
	"context"
	"log/slog"
	"math"

	"github.com/hookyard/hookyard/internal/alert"
	"github.com/hookyard/hookyard/internal/api"
	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/deliver"
	"github.com/hookyard/hookyard/internal/leader"
	"github.com/hookyard/hookyard/internal/metrics"
	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/tracing"
	"github.com/hookyard/hookyard/internal/webhook"
)

// alerting is the node's SLO and alert evaluation: an alert.Engine that
// samples the node's metrics and the store's queue, hears about failed
// attempts (for error samples), and is read by the admin API. Its
// notifications are stored as events and sent by the delivery engine
// (destinations alert:<name>, see alert.Destinations), so they are retried
// like any delivery and survive a restart.
//
// Every node samples (so a new leader has history), but only the leader
// opens incidents and notifies: on SQLite the single node, on PostgreSQL
// the holder of the leadership advisory lock. The node's metrics are its
// own traffic, so on a cluster the leader's rate rules see its share
// (deploy/prometheus/alerts.yml has the cluster-wide ones); queue rules
// read the shared store. Any node sends the stored notifications.
type alerting struct {
	engine *alert.Engine
	done   chan struct{}
}

func newAlerting(cfg *config.Config, m *metrics.Metrics, st store.Store, log *slog.Logger, wake func(destination string),
	elector leader.Elector, tracer *tracing.Tracer) (*alerting, error) {
	var dests []string
	for _, d := range cfg.Destinations {
		dests = append(dests, d.Name)
	}
	// Both stores keep incidents (store.KV), so a restart or a leader
	// change continues them rather than paging again.
	kv, _ := st.(store.KV)
	e, err := alert.New(m, st, alert.Config{SLOs: cfg.SLOs, Alerts: cfg.Alerts, Destinations: dests, Logger: log,
		Queue: st, Wake: wake, Leader: elector.IsLeader, Tracer: tracer, State: kv})
	if err != nil {
		return nil, err
	}
	return &alerting{engine: e, done: make(chan struct{})}, nil
}

// start evaluates until ctx ends; wait returns once it has stopped.
func (a *alerting) start(ctx context.Context) {
	go func() {
		defer close(a.done)
		a.engine.Run(ctx)
	}()
}

func (a *alerting) wait() { <-a.done }

// observer is the delivery engine's observer: metrics first, then the
// alert engine's error samples.
func (a *alerting) observer(m *metrics.Metrics) deliver.Observer { return observers{m, a.engine} }

// observers tells each of its members about every attempt.
type observers []deliver.Observer

func (o observers) Attempted(destination string, d *webhook.Delivery, ev *webhook.Event, at *webhook.Attempt, final webhook.State) {
	for _, x := range o {
		x.Attempted(destination, d, ev, at, final)
	}
}

// api adapts the alert engine to the admin API's wire types.
func (a *alerting) api() api.AlertSource { return alertAPI{a.engine} }

type alertAPI struct{ e *alert.Engine }

func (s alertAPI) Alerts() api.AlertList {
	firing, resolved := s.e.Alerts()
	out := api.AlertList{Firing: []api.Alert{}, Resolved: []api.Alert{}}
	for _, in := range firing {
		out.Firing = append(out.Firing, wireAlert(in))
	}
	for _, in := range resolved {
		out.Resolved = append(out.Resolved, wireAlert(in))
	}
	return out
}

func wireAlert(in alert.Incident) api.Alert {
	a := api.Alert{Key: in.Key, Rule: in.Rule, Severity: in.Severity, Subject: in.Subject, State: in.State,
		Summary: in.Summary, ErrorSamples: in.ErrorSamples, RunbookURL: in.RunbookURL,
		StartedAt: in.StartedAt.UTC(), ResolvedAt: in.ResolvedAt}
	if !a.ResolvedAt.IsZero() {
		a.ResolvedAt = a.ResolvedAt.UTC()
	}
	for _, f := range in.Facts {
		a.Facts = append(a.Facts, api.AlertFact{Name: f.Name, Value: f.Value})
	}
	return a
}

func (s alertAPI) SLOs() api.SLOList {
	out := api.SLOList{SLOs: []api.SLO{}}
	for _, st := range s.e.SLOs() {
		w := api.SLO{Name: st.Name, Objective: st.Objective, Kind: string(st.Kind), Destination: st.Destination,
			Target: st.Target, Events: st.Events, BurnRates: st.BurnRates, ThresholdSeconds: st.Threshold.Seconds(),
			Firing: st.Firing}
		if st.Kind == config.ObjectiveDrain {
			switch {
			case !st.HasData:
			case math.IsInf(st.TimeToDrain, 1):
				w.Stalled = true
			default:
				w.TimeToDrainSeconds = &st.TimeToDrain
			}
		} else {
			w.Window, w.Covered = st.Window.String(), st.Covered.String()
			budget := st.BudgetRemaining
			w.ErrorBudgetRemaining = &budget
			if st.HasData {
				sli := st.SLI
				w.SLI = &sli
			}
		}
		out.SLOs = append(out.SLOs, w)
	}
	return out
}
