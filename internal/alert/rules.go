package alert

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/metrics"
)

// The rules' thresholds. They follow the Google SRE workbook (burn rates)
// and common on-call practice; docs/RUNBOOKS.md lists them with each rule.
const (
	fastBurn = 14.4 // 2% of a 30-day budget in one hour
	slowBurn = 6.0  // 5% of a 30-day budget in six hours

	queueGrowthFor = 10 * time.Minute // queue depth rising at every sample for this long

	errorClassWindow      = 15 * time.Minute
	errorClassShare       = 0.01 // an error class above 1% of attempts
	errorClassMinAttempts = 50   // fewer attempts in the window are too few to judge

	dedupWindow     = time.Hour
	dedupBaseline   = 14 * 24 * time.Hour
	dedupMinHistory = 24 * time.Hour // no baseline before a day of history
	dedupSurge      = 1.5            // +50% against the baseline
	dedupMinHits    = 10             // fewer hits an hour never alert

	dlqWindow = 15 * time.Minute

	drainHold       = 5 * time.Minute // time-to-drain above the objective this long
	drainRateWindow = time.Minute     // completion rate window, as hookyard_queue_time_to_drain_seconds
)

// burnWindows are the windows burn rates are reported for.
var burnWindows = []struct {
	name string
	d    time.Duration
}{{"5m", 5 * time.Minute}, {"30m", 30 * time.Minute}, {"1h", time.Hour}, {"6h", 6 * time.Hour}}

// rule is one kind of alert.
type rule struct {
	name     string // the API's rule name and the incident key's prefix
	severity string // critical or warning
	runbook  string // anchor in docs/RUNBOOKS.md
	summary  string // for event rules: format with the destination
	source   bool   // the subject is a source, not a destination
}

// Severities.
const (
	SeverityCritical = "critical"
	SeverityWarning  = "warning"
)

var (
	ruleSuccessBurn = rule{name: "slo-success-burn", severity: SeverityCritical, runbook: "success-dropped"}
	ruleLatencyBurn = rule{name: "slo-latency-burn", severity: SeverityCritical, runbook: "end-to-end-latency"}
	ruleDrain       = rule{name: "slo-time-to-drain", severity: SeverityCritical, runbook: "queue-rising"}
	ruleQueue       = rule{name: "queue-growing", severity: SeverityWarning, runbook: "queue-rising"}
	ruleErrorClass  = rule{name: "error-class", severity: SeverityWarning, runbook: "error-class"}
	ruleDedup       = rule{name: "dedup-surge", severity: SeverityWarning, runbook: "dedup-surge", source: true}
	ruleDLQ         = rule{name: "dlq-growing", severity: SeverityWarning, runbook: "dlq-growing"}
	ruleBreaker     = rule{name: "breaker-open", severity: SeverityWarning, runbook: "breaker-open",
		summary: "circuit breaker for %s is open: deliveries are held"}
	ruleDisabled = rule{name: "destination-disabled", severity: SeverityCritical, runbook: "destination-disabled",
		summary: "destination %s is disabled: nothing is being delivered to it"}
	ruleReconcileGaps = rule{name: "reconcile-gaps", severity: SeverityWarning, runbook: "reconcile-gaps", source: true,
		summary: "reconciliation of source %s found events the provider never delivered"}
)

// Runbooks lists every runbook anchor the rules link to (for tests that
// check docs/RUNBOOKS.md has them).
func Runbooks() []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range []*rule{&ruleSuccessBurn, &ruleLatencyBurn, &ruleDrain, &ruleQueue, &ruleErrorClass,
		&ruleDedup, &ruleDLQ, &ruleBreaker, &ruleDisabled, &ruleReconcileGaps} {
		if !seen[r.runbook] {
			seen[r.runbook] = true
			out = append(out, r.runbook)
		}
	}
	return out
}

func (r *rule) key(parts ...string) string { return r.name + "/" + strings.Join(parts, "/") }

// condition is a rule that holds now for one subject.
type condition struct {
	key     string
	rule    *rule
	subject string
	summary string
	facts   []Fact
}

// evaluate returns every condition that holds at now, by incident key.
func (e *Engine) evaluate(now time.Time) map[string]condition {
	active := map[string]condition{}
	add := func(c condition, ok bool) {
		if ok {
			active[c.key] = c
		}
	}
	latest := e.minutes.newest()
	if latest == nil {
		return active
	}
	dests := sortedKeys(latest.dests)
	for i := range e.slos {
		s := &e.slos[i]
		for _, d := range s.targets(dests) {
			switch s.obj.Kind {
			case config.ObjectiveSuccess, config.ObjectiveLatency:
				add(e.burn(now, s, d))
			case config.ObjectiveDrain:
				add(e.drain(now, s, d))
			}
		}
	}
	for _, d := range dests {
		add(e.queueGrowing(now, d))
		for _, c := range e.errorClasses(now, d) {
			add(c, true)
		}
		add(e.dlqGrowing(now, d))
	}
	for _, src := range sortedKeys(latest.dedup) {
		add(e.dedupSurge(now, src))
	}
	for k, c := range e.events {
		active[k] = c
	}
	return active
}

// targets are the destinations an SLO covers.
func (s *slo) targets(dests []string) []string {
	if s.destination == "*" {
		return dests
	}
	return []string{s.destination}
}

// ratio returns the bad and total events of an SLO for dest over d.
func (e *Engine) ratio(now time.Time, s *slo, dest string, d time.Duration) (bad, total float64) {
	w, ok := e.window(now, d)
	if !ok {
		return 0, 0
	}
	var good float64
	if s.obj.Kind == config.ObjectiveLatency {
		good, bad = w.latency(dest, s.obj.Threshold)
	} else {
		good, bad = w.attempts(dest)
	}
	return bad, good + bad
}

// burnRate is how fast the window spends the error budget: 1 spends it
// exactly over the SLO period, 14.4 spends 2% of 30 days in an hour.
func (e *Engine) burnRate(now time.Time, s *slo, dest string, d time.Duration) float64 {
	bad, total := e.ratio(now, s, dest, d)
	if total == 0 {
		return 0
	}
	return bad / total / (1 - s.obj.Target)
}

func (e *Engine) burnRates(now time.Time, s *slo, dest string) map[string]float64 {
	out := make(map[string]float64, len(burnWindows))
	for _, w := range burnWindows {
		out[w.name] = e.burnRate(now, s, dest, w.d)
	}
	return out
}

// burn is the multi-window, multi-burn-rate rule: the fast pair (1h and
// 5m above 14.4) or the slow pair (6h and 30m above 6). The short window
// makes the alert stop soon after the burning stops.
func (e *Engine) burn(now time.Time, s *slo, dest string) (condition, bool) {
	b := e.burnRates(now, s, dest)
	fast := b["1h"] > fastBurn && b["5m"] > fastBurn
	slow := b["6h"] > slowBurn && b["30m"] > slowBurn
	if !fast && !slow {
		return condition{}, false
	}
	r := &ruleSuccessBurn
	what := "delivery success"
	if s.obj.Kind == config.ObjectiveLatency {
		r = &ruleLatencyBurn
		what = "end-to-end latency"
	}
	speed := "slow burn (6h and 30m)"
	rate := math.Min(b["6h"], b["30m"])
	if fast {
		speed, rate = "fast burn (1h and 5m)", math.Min(b["1h"], b["5m"])
	}
	bad, total := e.ratio(now, s, dest, 5*time.Minute)
	return condition{key: r.key(s.name, dest), rule: r, subject: dest,
		summary: fmt.Sprintf("SLO %s: %s to %s is spending its error budget %.1f× too fast (objective %s)",
			s.name, what, dest, rate, s.objective),
		facts: []Fact{
			{"burn", speed},
			{"burn rate 1h / 5m", fmt.Sprintf("%.1f / %.1f (threshold %.1f)", b["1h"], b["5m"], fastBurn)},
			{"burn rate 6h / 30m", fmt.Sprintf("%.1f / %.1f (threshold %.1f)", b["6h"], b["30m"], slowBurn)},
			{"bad in the last 5m", fmt.Sprintf("%.0f of %.0f (%.2f%%)", bad, total, 100*bad/max(total, 1))},
		}}, true
}

// timeToDrain estimates how long the sample's due and in-flight backlog
// of dest takes at the completion rate of the minute before it.
func (e *Engine) timeToDrain(s *sample, dest string) (float64, bool) {
	prev := e.minutes.atOrBefore(s.at.Add(-drainRateWindow))
	if prev == nil {
		return 0, false
	}
	dt := s.at.Sub(prev.at).Seconds()
	if dt <= 0 {
		return 0, false
	}
	d := s.dest(dest)
	rate := max(0, d.completed-prev.dest(dest).completed) / dt
	return metrics.TimeToDrain(d.due+d.inflight, rate), true
}

// drain fires when the time-to-drain estimate stayed above the objective
// at every sample for drainHold.
func (e *Engine) drain(now time.Time, s *slo, dest string) (condition, bool) {
	if e.minutes.atOrBefore(now.Add(-drainHold)) == nil {
		return condition{}, false // not enough history
	}
	from := now.Add(-drainHold)
	limit := s.obj.Threshold.Seconds()
	var latest float64
	for i := e.minutes.len() - 1; i >= 0; i-- {
		smp := e.minutes.at(i)
		if smp.at.Before(from) {
			break
		}
		ttd, ok := e.timeToDrain(smp, dest)
		if !ok || ttd <= limit {
			return condition{}, false
		}
		if i == e.minutes.len()-1 {
			latest = ttd
		}
	}
	d := e.minutes.newest().dest(dest)
	summary := fmt.Sprintf("SLO %s: the backlog of %s is not draining: %d deliveries wait and none completes (objective %s)",
		s.name, dest, d.due+d.inflight, s.objective)
	if !math.IsInf(latest, 1) {
		summary = fmt.Sprintf("SLO %s: the backlog of %s would take %s to drain (objective %s)", s.name, dest,
			(time.Duration(latest) * time.Second).Round(time.Second), s.objective)
	}
	return condition{key: ruleDrain.key(s.name, dest), rule: &ruleDrain, subject: dest,
		summary: summary,
		facts: []Fact{
			{"backlog (due + in flight)", fmt.Sprint(d.due + d.inflight)},
			{"scheduled for retry", fmt.Sprint(d.scheduled)},
			{"above the objective for", drainHold.String()},
		}}, true
}

// queueGrowing fires when the destination's live backlog (due, scheduled
// and in flight) rose at every sample for queueGrowthFor.
func (e *Engine) queueGrowing(now time.Time, dest string) (condition, bool) {
	base := e.minutes.atOrBefore(now.Add(-queueGrowthFor))
	if base == nil {
		return condition{}, false
	}
	prev := base.dest(dest).live()
	first := prev
	started := false
	for i := 0; i < e.minutes.len(); i++ {
		s := e.minutes.at(i)
		if s == base {
			started = true
			continue
		}
		if !started {
			continue
		}
		cur := s.dest(dest).live()
		if cur <= prev {
			return condition{}, false
		}
		prev = cur
	}
	if !started || prev == first {
		return condition{}, false
	}
	return condition{key: ruleQueue.key(dest), rule: &ruleQueue, subject: dest,
		summary: fmt.Sprintf("queue for %s has grown for %s without a pause: %d → %d deliveries",
			dest, queueGrowthFor, first, prev),
		facts: []Fact{{"depth now", fmt.Sprint(prev)}, {"depth " + queueGrowthFor.String() + " ago", fmt.Sprint(first)}}}, true
}

// errorClasses returns a condition for each error class above 1% of the
// destination's attempts over 15 minutes.
func (e *Engine) errorClasses(now time.Time, dest string) []condition {
	w, ok := e.window(now, errorClassWindow)
	if !ok {
		return nil
	}
	good, bad := w.attempts(dest)
	total := good + bad
	if total < errorClassMinAttempts || bad == 0 {
		return nil
	}
	var out []condition
	for _, class := range sortedKeys(w.to.dest(dest).classes) {
		n := w.class(dest, class)
		if n/total <= errorClassShare {
			continue
		}
		name := class
		if name == "" {
			name = "unclassified"
		}
		out = append(out, condition{key: ruleErrorClass.key(dest, name), rule: &ruleErrorClass, subject: dest,
			summary: fmt.Sprintf("%.1f%% of attempts to %s failed with %s over the last %s (threshold %.0f%%)",
				100*n/total, dest, name, errorClassWindow, 100*errorClassShare),
			facts: []Fact{{"error class", name}, {"failed / attempts", fmt.Sprintf("%.0f / %.0f", n, total)}}})
	}
	return out
}

// dlqGrowing fires when the destination's dead-letter queue grew over the
// last 15 minutes.
func (e *Engine) dlqGrowing(now time.Time, dest string) (condition, bool) {
	w, ok := e.window(now, dlqWindow)
	if !ok {
		return condition{}, false
	}
	from, to := w.from.dest(dest).dead, w.to.dest(dest).dead
	if to <= from {
		return condition{}, false
	}
	return condition{key: ruleDLQ.key(dest), rule: &ruleDLQ, subject: dest,
		summary: fmt.Sprintf("dead-letter queue of %s grew by %d in the last %s (now %d)", dest, to-from, dlqWindow, to),
		facts:   []Fact{{"dead letters", fmt.Sprint(to)}, {"new", fmt.Sprint(to - from)}}}, true
}

// dedupSurge fires when a source's dedup hits over the last hour are 50%
// above its hourly average over the previous 14 days (at least a day of
// history is needed; the baseline is in memory, so it restarts with the
// process).
func (e *Engine) dedupSurge(now time.Time, src string) (condition, bool) {
	recent, ok := e.window(now, dedupWindow)
	if !ok {
		return condition{}, false
	}
	long, _ := e.window(now, dedupBaseline)
	if long.covered() < dedupMinHistory {
		return condition{}, false
	}
	hits := recent.to.dedup[src] - recent.from.dedup[src]
	before := (long.to.dedup[src] - long.from.dedup[src]) - hits
	hours := (long.covered() - recent.covered()).Hours()
	if hours <= 0 || hits < dedupMinHits*recent.covered().Hours() {
		return condition{}, false
	}
	baseline := before / hours * recent.covered().Hours()
	if hits <= dedupSurge*baseline {
		return condition{}, false
	}
	return condition{key: ruleDedup.key(src), rule: &ruleDedup, subject: src,
		summary: fmt.Sprintf("source %s: %.0f duplicate requests in the last hour, against %.1f an hour over the last %s",
			src, hits, before/hours, long.covered().Round(time.Hour)),
		facts: []Fact{{"duplicates last hour", fmt.Sprintf("%.0f", hits)}, {"baseline per hour", fmt.Sprintf("%.1f", before/hours)}}}, true
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
