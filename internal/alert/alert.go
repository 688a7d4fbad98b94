// Package alert evaluates hookyard's SLOs and alert rules in-process and
// sends alerts to Slack, PagerDuty, email or a generic webhook.
//
// Once a minute (Config.Interval) the Engine samples the metric totals
// (metrics.Snapshot) and the queue (store QueueStats) into an in-memory
// ring — one-minute samples for six hours, hourly ones for the longest SLO
// window or the 14-day dedup baseline — and evaluates the rules on it:
// multi-window burn rates for success and latency SLOs (Google SRE
// workbook: 1h and 5m at 14.4×, 6h and 30m at 6×), a direct threshold for
// time-to-drain objectives, and the direct rules on-call teams use (queue
// growing for 10 minutes, an error class above 1% over 15 minutes, dedup
// hits 50% above their 14-day baseline, the DLQ growing, a breaker open or
// a destination disabled — the last two reported by Event).
//
// Every rule and subject (destination or source) has one stable incident
// key. An incident fires once and resolves once: it resolves only after
// its condition has stayed false for Config.ResolveAfter, so a flapping
// condition stays one incident and one page.
//
// Notifications are durable with Config.Queue: stored as events and sent
// by the delivery engine (durable.go); without it they wait in an
// in-memory queue per notifier. With Config.State the incidents are
// persisted too (persist.go), so a restart or a new leader continues them.
// The rest of the state is in memory: the ring and the dedup baseline
// start empty when the process starts, and the counters are this node's
// own (on a cluster, use deploy/prometheus/alerts.yml for cluster-wide
// rates; queue rules read the shared store).
package alert

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/deliver"
	"github.com/hookyard/hookyard/internal/metrics"
	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/tracing"
	"github.com/hookyard/hookyard/internal/webhook"
)

// Sampler reads the metric totals (*metrics.Metrics satisfies it).
type Sampler interface {
	Snapshot() metrics.Snapshot
}

// QueueSource reads every destination's queue (store.Store satisfies it).
type QueueSource interface {
	QueueStats(ctx context.Context, now time.Time) ([]store.QueueStat, error)
}

// DefaultRunbookBase is where runbook links point unless
// alerts[].runbook_base_url says otherwise.
const DefaultRunbookBase = "https://github.com/hookyard/hookyard/blob/main/docs/RUNBOOKS.md"

// Config wires an Engine. Every field is optional.
type Config struct {
	SLOs   []config.SLO
	Alerts []config.Alert
	// Destinations are the configured destination names: "*" SLOs cover
	// each of them.
	Destinations []string
	Logger       *slog.Logger     // default discards
	Now          func() time.Time // default time.Now
	Rand         func() float64   // retry jitter; default math/rand/v2
	HTTP         *http.Client     // notifier client; default a 10s timeout
	// Retry is the notification retry schedule; default 20 attempts from
	// 5s up to 5m apart (about an hour and a half in all).
	Retry deliver.Policy
	// Interval is how often the engine samples and evaluates; default 1m.
	// The rule windows assume one-minute samples.
	Interval time.Duration
	// ResolveAfter is how long a condition must stay false before its
	// incident resolves; default 10m.
	ResolveAfter time.Duration
	// Leader, if set, gates evaluation: a node that is not the leader keeps
	// sampling (so it has history when it takes over) but neither opens
	// incidents nor notifies.
	Leader func() bool
	// Queue, if set, makes notifications durable: each is stored as an
	// event of source Source and delivered by the delivery engine to the
	// destinations Destinations returns (see durable.go). Without it they
	// wait in an in-memory queue that a restart loses.
	Queue Queue
	// Wake tells the delivery engine that a notifier's destination has new
	// work (with Queue).
	Wake func(destination string)
	// State, if set, persists incidents (see persist.go): a restart or a
	// new leader continues the open ones instead of paging again, and
	// resolves those whose condition cleared meanwhile.
	State store.KV
	// Tracer, if set, records storing a notification as the root span of
	// its event's trace, which the delivery attempts join.
	Tracer *tracing.Tracer
}

// Engine samples, evaluates and notifies. Its methods are safe for
// concurrent use.
type Engine struct {
	cfg      Config
	log      *slog.Logger
	sampler  Sampler
	queue    QueueSource
	slos     []slo
	outboxes []*outbox
	runbook  string // base for the API's links

	mu       sync.Mutex
	minutes  *ring
	hours    *ring
	lastQ    map[string]store.QueueStat // carried forward when QueueStats fails
	open     map[string]*Incident
	resolved []*Incident // newest last, at most maxResolved
	events   map[string]condition

	errs *errorSamples

	unstored []Incident // notifications not yet in Queue, oldest first (under mu)
	storeMu  sync.Mutex // one writer of unstored at a time, in order

	// synced (under mu): this node leads and its incidents are the ones
	// in State (loaded when it took over, saved since).
	synced   bool
	stateSeq uint64     // under mu
	saveMu   sync.Mutex // one writer of State at a time
	savedSeq uint64     // under saveMu
	savedDoc string     // under saveMu
}

// slo is a parsed config.SLO.
type slo struct {
	name        string
	objective   string
	obj         config.Objective
	window      time.Duration
	destination string // a name or "*"
}

const maxResolved = 100

// New builds an Engine from cfg; sampler and queue are where it reads.
// Errors name the config key at fault (configs that passed validation
// never fail).
func New(sampler Sampler, queue QueueSource, cfg Config) (*Engine, error) {
	cfg.Logger = cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler))
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Float64
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Retry == (deliver.Policy{}) {
		cfg.Retry = deliver.Policy{MaxAttempts: 20, Initial: 5 * time.Second, Max: 5 * time.Minute}
	}
	cfg.Interval = cmp.Or(cfg.Interval, time.Minute)
	cfg.ResolveAfter = cmp.Or(cfg.ResolveAfter, 10*time.Minute)
	e := &Engine{cfg: cfg, log: cfg.Logger, sampler: sampler, queue: queue, runbook: DefaultRunbookBase,
		lastQ: map[string]store.QueueStat{}, open: map[string]*Incident{}, events: map[string]condition{},
		errs: newErrorSamples()}
	longest := dedupBaseline
	for i, s := range cfg.SLOs {
		obj, err := config.ParseObjective(s.Objective)
		if err != nil {
			return nil, fmt.Errorf("slos[%d].objective: %w", i, err)
		}
		w := cmp.Or(s.Window.D(), 28*24*time.Hour)
		e.slos = append(e.slos, slo{name: s.Name, objective: s.Objective, obj: obj, window: w,
			destination: cmp.Or(s.Destination, "*")})
		longest = max(longest, w)
	}
	e.minutes = newRing(int(minuteSpan/cfg.Interval) + 2)
	e.hours = newRing(int(longest/time.Hour) + 2)
	for i, a := range cfg.Alerts {
		send, err := newSender(a, cfg.HTTP)
		if err != nil {
			return nil, fmt.Errorf("alerts[%d]: %w", i, err)
		}
		base := cmp.Or(a.RunbookBaseURL, DefaultRunbookBase)
		if a.RunbookBaseURL != "" && e.runbook == DefaultRunbookBase {
			e.runbook = a.RunbookBaseURL
		}
		e.outboxes = append(e.outboxes, &outbox{name: a.Name, kind: a.Type, send: send, runbook: base,
			policy: cfg.Retry, rand: cfg.Rand, log: cfg.Logger, wake: make(chan struct{}, 1)})
	}
	return e, nil
}

// Run samples and evaluates every Interval, and delivers notifications,
// until ctx ends. Notifications still queued then are lost (and logged).
func (e *Engine) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	if e.cfg.Queue == nil {
		for _, ob := range e.outboxes {
			wg.Go(func() { ob.run(ctx, e.cfg.Now) })
		}
	}
	t := time.NewTicker(e.cfg.Interval)
	defer t.Stop()
	for {
		if err := e.Tick(ctx, e.cfg.Now()); err != nil && ctx.Err() == nil {
			e.log.Warn("alert evaluation incomplete", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			wg.Wait()
			return nil
		case <-t.C:
		}
	}
}

// Tick takes one sample at now and evaluates every rule; Run calls it
// every Interval, tests call it with their own clock. An error means the
// queue could not be read: the queue rules then see the last known queue.
func (e *Engine) Tick(ctx context.Context, now time.Time) error {
	snap := e.sampler.Snapshot()
	qs, qerr := e.queue.QueueStats(ctx, now)
	leads := e.cfg.Leader == nil || e.cfg.Leader()
	lerr := e.sync(ctx, now, leads)
	e.mu.Lock()
	if qerr == nil {
		clear(e.lastQ)
		for _, q := range qs {
			if !IsInternal(q.Destination) {
				e.lastQ[q.Destination] = q
			}
		}
	}
	e.push(newSample(now, snap, e.lastQ, e.destinations(snap)))
	if !leads {
		e.synced = false // reload on taking over, even if a follower's load failed
	}
	var doc string
	var seq uint64
	if leads && (e.cfg.State == nil || e.synced) {
		e.transition(now, e.evaluate(now), true)
		if e.cfg.State != nil {
			doc, seq = e.snapshot()
		}
	}
	e.mu.Unlock()
	var serr error
	if e.cfg.Queue != nil {
		serr = e.store(ctx)
	}
	// The notifications are stored first: a crash between the two writes
	// can page twice, never not at all.
	if seq != 0 {
		lerr = errors.Join(lerr, e.save(ctx, doc, seq))
	}
	if qerr != nil {
		qerr = fmt.Errorf("queue stats: %w", qerr)
	}
	return errors.Join(qerr, lerr, serr)
}

// Flush sends every notification due at now and returns when done; Run's
// notifier loops do the same continuously. For tests and shutdown hooks.
func (e *Engine) Flush(ctx context.Context, now time.Time) {
	for _, ob := range e.outboxes {
		ob.deliverDue(ctx, now)
	}
}

// Pending returns how many notifications wait in memory: to be delivered,
// or (with Config.Queue) to be stored.
func (e *Engine) Pending() int {
	e.mu.Lock()
	n := len(e.unstored)
	e.mu.Unlock()
	for _, ob := range e.outboxes {
		n += ob.len()
	}
	return n
}

// Event kinds, for Event.
const (
	EventBreakerOpened       = "breaker_opened"
	EventBreakerClosed       = "breaker_closed"
	EventDestinationDisabled = "destination_disabled"
	EventDestinationEnabled  = "destination_enabled"
	// EventReconcileGaps: a reconciliation run of a source (the subject)
	// found more missing events than its threshold; EventReconcileClean: a
	// later run found no more than that.
	EventReconcileGaps  = "reconcile_gaps"
	EventReconcileClean = "reconcile_clean"
)

// Event reports something the delivery engine decided: a breaker opened
// or closed, a destination was disabled or enabled again. Opening events
// fire at once; closing ones let the incident resolve after ResolveAfter.
// detail is a short reason for the message (never a body or a secret;
// it is sanitized like error samples).
func (e *Engine) Event(kind, destination, detail string) {
	var r *rule
	opening := false
	switch kind {
	case EventBreakerOpened:
		r, opening = &ruleBreaker, true
	case EventBreakerClosed:
		r = &ruleBreaker
	case EventDestinationDisabled:
		r, opening = &ruleDisabled, true
	case EventDestinationEnabled:
		r = &ruleDisabled
	case EventReconcileGaps:
		r, opening = &ruleReconcileGaps, true
	case EventReconcileClean:
		r = &ruleReconcileGaps
	default:
		e.log.Warn("unknown alert event", "kind", kind, "destination", destination)
		return
	}
	key := r.key(destination)
	now := e.cfg.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if opening && (e.cfg.Leader == nil || e.cfg.Leader()) {
		e.sync(ctx, now, true) // logged; the next Tick retries
	}
	e.mu.Lock()
	if !opening {
		delete(e.events, key)
		e.mu.Unlock()
		return
	}
	c := condition{key: key, rule: r, subject: destination, summary: fmt.Sprintf(r.summary, destination)}
	if d := sanitize(detail); d != "" {
		c.facts = append(c.facts, Fact{"detail", d})
	}
	e.events[key] = c
	// A node that could not load the stored incidents leaves the event to
	// the next Tick.
	if (e.cfg.Leader != nil && !e.cfg.Leader()) || (e.cfg.State != nil && !e.synced) {
		e.mu.Unlock()
		return
	}
	e.transition(now, map[string]condition{key: c}, false)
	var doc string
	var seq uint64
	if e.cfg.State != nil {
		doc, seq = e.snapshot()
	}
	e.mu.Unlock()
	if e.cfg.Queue != nil {
		e.store(ctx) // logged; the next Tick retries
	}
	if seq != 0 {
		e.save(ctx, doc, seq) // logged; the next Tick retries
	}
}

// Attempted records the error of a failed attempt as a sample for alert
// messages; it satisfies deliver.Observer. Only the error text is kept,
// with quoted values, URLs and addresses removed.
func (e *Engine) Attempted(destination string, _ *webhook.Delivery, _ *webhook.Event, a *webhook.Attempt, _ webhook.State) {
	if a.ErrorClass == "" || IsInternal(destination) {
		return
	}
	e.errs.add(destination, a.ErrorClass, a.Error)
}

// destinations lists the configured destinations and any others the
// metrics or the queue mention, sorted.
func (e *Engine) destinations(snap metrics.Snapshot) []string {
	seen := map[string]bool{}
	for _, d := range e.cfg.Destinations {
		seen[d] = true
	}
	for k := range snap.Attempts {
		if !IsInternal(k.Destination) {
			seen[k.Destination] = true
		}
	}
	for d := range e.lastQ {
		seen[d] = true
	}
	out := make([]string, 0, len(seen))
	for d := range seen {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// Alerts returns the firing incidents (oldest first) and the recently
// resolved ones (newest first), with runbook links.
func (e *Engine) Alerts() (firing, resolved []Incident) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, in := range e.open {
		c := *in
		c.RunbookURL = runbookURL(e.runbook, in.Runbook)
		firing = append(firing, c)
	}
	slices.SortFunc(firing, func(a, b Incident) int {
		return cmp.Or(a.StartedAt.Compare(b.StartedAt), cmp.Compare(a.Key, b.Key))
	})
	for i := len(e.resolved) - 1; i >= 0; i-- {
		c := *e.resolved[i]
		c.RunbookURL = runbookURL(e.runbook, c.Runbook)
		resolved = append(resolved, c)
	}
	return firing, resolved
}
