package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hookyard/hookyard/internal/store"
)

// Reconcile holds the reconciliation metrics; RegisterReconcile adds them
// to the registry (only servers with reconciliation configured do).
type Reconcile struct {
	runs       *prometheus.CounterVec
	listed     *prometheus.CounterVec
	gaps       *prometheus.CounterVec
	backfilled *prometheus.CounterVec
	quarantine *prometheus.CounterVec
	lastGaps   *prometheus.GaugeVec
	lastEnd    *prometheus.GaugeVec
}

// RegisterReconcile registers the reconciliation metrics.
func (m *Metrics) RegisterReconcile() *Reconcile {
	r := &Reconcile{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookyard_reconcile_runs_total",
			Help: "Finished reconciliation runs by source and state (done, failed).",
		}, []string{"source", "state"}),
		listed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookyard_reconcile_listed_total",
			Help: "Provider events or resources listed by reconciliation runs.",
		}, []string{"source"}),
		gaps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookyard_reconcile_gaps_total",
			Help: "Provider events found missing (never received as webhooks) by reconciliation.",
		}, []string{"source"}),
		backfilled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookyard_reconcile_backfilled_total",
			Help: "Missing events backfilled (stored from the API, or redelivered by the provider).",
		}, []string{"source"}),
		quarantine: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookyard_reconcile_quarantined_total",
			Help: "Missing events whose backfill failed ingest validation (kept in the quarantine, not delivered).",
		}, []string{"source"}),
		lastGaps: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hookyard_reconcile_last_gaps",
			Help: "Missing events found by the source's last finished run.",
		}, []string{"source"}),
		lastEnd: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hookyard_reconcile_last_run_timestamp_seconds",
			Help: "When the source's last reconciliation run finished (unix seconds).",
		}, []string{"source"}),
	}
	m.Registry.MustRegister(r.runs, r.listed, r.gaps, r.backfilled, r.quarantine, r.lastGaps, r.lastEnd)
	return r
}

// Reconciled records a finished run.
func (r *Reconcile) Reconciled(run *store.ReconcileRun, _ int) {
	r.runs.WithLabelValues(run.Source, run.State).Inc()
	r.listed.WithLabelValues(run.Source).Add(float64(run.Listed))
	r.gaps.WithLabelValues(run.Source).Add(float64(run.Missing))
	r.backfilled.WithLabelValues(run.Source).Add(float64(run.Backfilled))
	r.quarantine.WithLabelValues(run.Source).Add(float64(run.Quarantined))
	r.lastGaps.WithLabelValues(run.Source).Set(float64(run.Missing))
	r.lastEnd.WithLabelValues(run.Source).Set(float64(run.FinishedAt.UnixNano()) / 1e9)
}
