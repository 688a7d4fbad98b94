// Package metrics defines every Prometheus metric hookyard exports, in one
// place, on an explicit registry (never the global default). Labels are
// bounded: source, destination, route, provider, outcome, error class and
// topic (capped per source) — never ids. docs/METRICS.md documents each name.
package metrics

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"
)

// Ingest outcomes that carry an ACK latency (ingest.OutcomeAccepted and
// ingest.OutcomeDuplicate; the other outcomes are counted only).
const (
	outcomeAccepted  = "accepted"
	outcomeDuplicate = "duplicate"
)

// maxTopicsPerSource caps the topic label: past it, topics count as "other".
const maxTopicsPerSource = 100

// latency buckets from 1 ms to about 9 hours: ACKs live at the low end,
// end-to-end latency of retried deliveries at the high end.
var buckets = prometheus.ExponentialBuckets(0.001, 2.5, 18)

// Metrics holds every collector.
type Metrics struct {
	Registry *prometheus.Registry

	ingestRequests *prometheus.CounterVec
	ingestAck      *prometheus.HistogramVec
	secretIndex    *prometheus.CounterVec
	dedupHits      *prometheus.CounterVec
	eventsByTopic  *prometheus.CounterVec

	attempts  *prometheus.CounterVec
	sendTime  *prometheus.HistogramVec
	queueWait *prometheus.HistogramVec
	endToEnd  *prometheus.HistogramVec
	completed *prometheus.CounterVec

	routeErrors *prometheus.CounterVec
	shadowDiffs *prometheus.CounterVec
	// Schema drift (drift.Observer).
	driftPaths   *prometheus.GaugeVec
	driftDropped *prometheus.CounterVec

	topicsMu sync.Mutex
	topics   map[string]map[string]bool

	drain *drainRate
	held  func(destination string) bool // see SetHeld
}

// New registers every metric on a fresh registry.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		ingestRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookyard_ingest_requests_total",
			Help: "Inbound webhook requests by source and outcome.",
		}, []string{"source", "outcome"}),
		ingestAck: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "hookyard_ingest_ack_seconds", Buckets: buckets,
			Help: "Time from request start to the answer, accepted and duplicate requests only.",
		}, []string{"source"}),
		secretIndex: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookyard_ingest_secret_matched_total",
			Help: "Verified requests by which configured secret matched (0 = first); watch the old secret fall to zero during rotation.",
		}, []string{"source", "index"}),
		dedupHits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookyard_dedup_hits_total",
			Help: "Requests recognised as duplicates of a stored event.",
		}, []string{"source"}),
		eventsByTopic: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookyard_events_total",
			Help: "Accepted events by source and topic (business proxy: orders/min, payments/min); topics past 100 per source count as other.",
		}, []string{"source", "topic"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookyard_delivery_attempts_total",
			Help: "Delivery attempts by destination, outcome (success, retry, dead) and error class.",
		}, []string{"destination", "outcome", "error_class"}),
		sendTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "hookyard_delivery_send_seconds", Buckets: buckets,
			Help: "Duration of one attempt's destination write.",
		}, []string{"destination"}),
		queueWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "hookyard_delivery_queue_wait_seconds", Buckets: buckets,
			Help: "Time a delivery waited between becoming due and its attempt starting.",
		}, []string{"destination"}),
		endToEnd: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "hookyard_delivery_end_to_end_seconds", Buckets: buckets,
			Help: "Time from receiving the event to its successful delivery.",
		}, []string{"destination"}),
		completed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookyard_deliveries_completed_total",
			Help: "Deliveries that reached a final state (succeeded or dead).",
		}, []string{"destination", "state"}),
		routeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookyard_route_errors_total",
			Help: "Route expression or transform failures by route and stage (filter, priority, ordering_key, transform).",
		}, []string{"route", "stage"}),
		shadowDiffs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookyard_shadow_compared_total",
			Help: "Shadow transform comparisons by route and result (same, different).",
		}, []string{"route", "result"}),
		driftPaths: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hookyard_schema_drift_paths",
			Help: "Paths of a (source, topic) that drifted from its frozen baseline, by kind (new, missing, type_changed).",
		}, []string{"source", "topic", "kind"}),
		driftDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookyard_schema_drift_dropped_total",
			Help: "Accepted events not tracked for schema drift, by reason (queue_full, not_json).",
		}, []string{"source", "reason"}),
		topics: map[string]map[string]bool{},
		drain:  newDrainRate(time.Minute),
	}
	m.Registry.MustRegister(m.ingestRequests, m.ingestAck, m.secretIndex, m.dedupHits, m.eventsByTopic,
		m.attempts, m.sendTime, m.queueWait, m.endToEnd, m.completed, m.routeErrors, m.shadowDiffs,
		m.driftPaths, m.driftDropped,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Ingested records one ingest request. secretIndex < 0 means none matched
// or none applies; topic is recorded only for accepted events.
func (m *Metrics) Ingested(source, outcome string, took time.Duration, secretIndex int, topic string) {
	m.ingestRequests.WithLabelValues(source, outcome).Inc()
	switch outcome {
	case outcomeAccepted:
		m.ingestAck.WithLabelValues(source).Observe(took.Seconds())
		m.eventsByTopic.WithLabelValues(source, m.topic(source, topic)).Inc()
	case outcomeDuplicate:
		m.ingestAck.WithLabelValues(source).Observe(took.Seconds())
		m.dedupHits.WithLabelValues(source).Inc()
	}
	if secretIndex >= 0 {
		m.secretIndex.WithLabelValues(source, strconv.Itoa(secretIndex)).Inc()
	}
}

func (m *Metrics) topic(source, topic string) string {
	m.topicsMu.Lock()
	defer m.topicsMu.Unlock()
	seen := m.topics[source]
	if seen == nil {
		seen = map[string]bool{}
		m.topics[source] = seen
	}
	if seen[topic] {
		return topic
	}
	if len(seen) >= maxTopicsPerSource {
		return "other"
	}
	seen[topic] = true
	return topic
}

// Attempted records one delivery attempt (deliver.Observer).
func (m *Metrics) Attempted(destination string, d *webhook.Delivery, ev *webhook.Event, a *webhook.Attempt, final webhook.State) {
	outcome := "retry"
	switch final {
	case webhook.StateSucceeded:
		outcome = "success"
	case webhook.StateDead:
		outcome = "dead"
	}
	m.attempts.WithLabelValues(destination, outcome, a.ErrorClass).Inc()
	m.sendTime.WithLabelValues(destination).Observe(a.Duration.Seconds())
	if !d.ReadyAt.IsZero() {
		m.queueWait.WithLabelValues(destination).Observe(max(0, a.StartedAt.Sub(d.ReadyAt).Seconds()))
	}
	if final == webhook.StateSucceeded {
		m.endToEnd.WithLabelValues(destination).Observe(a.StartedAt.Add(a.Duration).Sub(ev.ReceivedAt).Seconds())
	}
	if final == webhook.StateSucceeded || final == webhook.StateDead {
		m.completed.WithLabelValues(destination, string(final)).Inc()
		m.drain.add(destination, time.Now())
	}
}

// RouteError counts a failed route expression or transform (route.Observer).
func (m *Metrics) RouteError(route, stage string) { m.routeErrors.WithLabelValues(route, stage).Inc() }

// ShadowCompared counts a shadow comparison (route.Observer).
func (m *Metrics) ShadowCompared(route string, differences int) {
	result := "same"
	if differences > 0 {
		result = "different"
	}
	m.shadowDiffs.WithLabelValues(route, result).Inc()
}

// DriftPaths sets how many paths of a stream drifted (drift.Observer).
func (m *Metrics) DriftPaths(source, topic, kind string, n int) {
	m.driftPaths.WithLabelValues(source, topic, kind).Set(float64(n))
}

// DriftDropped counts an event not tracked for drift (drift.Observer).
func (m *Metrics) DriftDropped(source, reason string) {
	m.driftDropped.WithLabelValues(source, reason).Inc()
}

// QueueSource is what the queue collector reads at scrape time.
type QueueSource interface {
	QueueStats(ctx context.Context, now time.Time) ([]store.QueueStat, error)
}

// RegisterQueue adds the queue gauges (depth by state, oldest due age,
// time-to-drain), read from the store at each scrape. Every configured
// destination is reported, with zeros when its queue is empty.
func (m *Metrics) RegisterQueue(src QueueSource, destinations []string, log *slog.Logger) {
	m.Registry.MustRegister(&queueCollector{src: src, dests: destinations, drain: m.drain, log: log, m: m})
}

var (
	depthDesc = prometheus.NewDesc("hookyard_queue_depth",
		"Deliveries by destination and state: due (waiting for a worker), held (due, but the destination is paused, disabled or its breaker open), scheduled (waiting for a retry), inflight, dead.",
		[]string{"destination", "state"}, nil)
	oldestDesc = prometheus.NewDesc("hookyard_queue_oldest_due_age_seconds",
		"Age of the oldest due delivery of the destination (0 when none is due).", []string{"destination"}, nil)
	drainDesc = prometheus.NewDesc("hookyard_queue_time_to_drain_seconds",
		"Estimated time to drain the due and in-flight backlog: depth divided by hookyard_delivery_completion_rate (+Inf when nothing completes).",
		[]string{"destination"}, nil)
	rateDesc = prometheus.NewDesc("hookyard_delivery_completion_rate",
		"Deliveries completed per second over the last minute, or since the minute's first completion when that is more recent.", []string{"destination"}, nil)
)

type queueCollector struct {
	src   QueueSource
	dests []string
	drain *drainRate
	log   *slog.Logger
	m     *Metrics
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- depthDesc
	ch <- oldestDesc
	ch <- drainDesc
	ch <- rateDesc
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	now := time.Now()
	stats, err := c.src.QueueStats(ctx, now)
	if err != nil {
		if c.log != nil {
			c.log.Warn("queue stats unavailable", "error", err.Error())
		}
		return
	}
	seen := map[string]bool{}
	for _, q := range stats {
		seen[q.Destination] = true
	}
	for _, d := range c.dests {
		if !seen[d] {
			stats = append(stats, store.QueueStat{Destination: d})
		}
	}
	for _, q := range stats {
		due, held := q.Due, 0
		if c.m.held != nil && c.m.held(q.Destination) {
			due, held = 0, q.Due
		}
		ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, float64(due), q.Destination, "due")
		ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, float64(held), q.Destination, "held")
		ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, float64(q.Scheduled), q.Destination, "scheduled")
		ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, float64(q.InFlight), q.Destination, "inflight")
		ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, float64(q.Dead), q.Destination, "dead")
		age := 0.0
		if !q.OldestDue.IsZero() {
			age = max(0, now.Sub(q.OldestDue).Seconds())
		}
		ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, age, q.Destination)
		rate := c.drain.rate(q.Destination, now)
		ch <- prometheus.MustNewConstMetric(rateDesc, prometheus.GaugeValue, rate, q.Destination)
		ch <- prometheus.MustNewConstMetric(drainDesc, prometheus.GaugeValue,
			TimeToDrain(q.Due+q.InFlight, rate), q.Destination)
	}
}

// TableStat is one lookup table as the metrics see it.
type TableStat struct {
	Name    string
	Rows    int
	Failing bool // the last reload failed; the previous rows stay in use
}

// RegisterTables reports the lookup tables of the transforms, read at
// scrape time from src.
func (m *Metrics) RegisterTables(src func() []TableStat) {
	m.Registry.MustRegister(tableCollector(src))
}

var (
	tableRowsDesc = prometheus.NewDesc("hookyard_lookup_table_rows",
		"Rows of a lookup table in use by lookup(table; key).", []string{"table"}, nil)
	tableFailingDesc = prometheus.NewDesc("hookyard_lookup_table_reload_failing",
		"1 when the last reload of a lookup table's file failed (the previous rows stay in use), else 0.", []string{"table"}, nil)
)

type tableCollector func() []TableStat

func (c tableCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- tableRowsDesc
	ch <- tableFailingDesc
}

func (c tableCollector) Collect(ch chan<- prometheus.Metric) {
	for _, t := range c() {
		failing := 0.0
		if t.Failing {
			failing = 1
		}
		ch <- prometheus.MustNewConstMetric(tableRowsDesc, prometheus.GaugeValue, float64(t.Rows), t.Name)
		ch <- prometheus.MustNewConstMetric(tableFailingDesc, prometheus.GaugeValue, failing, t.Name)
	}
}
