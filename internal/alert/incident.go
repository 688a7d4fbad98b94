package alert

import (
	"cmp"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/hookyard/hookyard/internal/config"
)

// Incident states.
const (
	StateFiring   = "firing"
	StateResolved = "resolved"
)

// Incident is one alert from firing to resolved. Its Key is stable for a
// rule and subject, so a notifier can deduplicate on it (it is
// PagerDuty's dedup_key).
type Incident struct {
	Key      string
	Rule     string
	Severity string
	// Subject is the destination (or, for dedup-surge, the source).
	Subject string
	Summary string
	Facts   []Fact
	// ErrorSamples are the most frequent recent errors of the destination,
	// with quoted values, URLs and addresses removed.
	ErrorSamples []string
	// Runbook is the anchor of the runbook section in docs/RUNBOOKS.md;
	// RunbookURL the full link.
	Runbook    string
	RunbookURL string
	State      string
	StartedAt  time.Time
	ResolvedAt time.Time
	lastTrue   time.Time
}

// Fact is one name/value line of an alert message.
type Fact struct {
	Name, Value string
}

// transition applies the conditions that hold at now: new ones fire;
// when full (a complete evaluation), open incidents whose condition has
// been false for ResolveAfter resolve.
func (e *Engine) transition(now time.Time, active map[string]condition, full bool) {
	for _, key := range sortedKeys(active) {
		c := active[key]
		in := e.open[key]
		if in == nil {
			in = &Incident{Key: key, Rule: c.rule.name, Severity: c.rule.severity, Subject: c.subject,
				Runbook: c.rule.runbook, State: StateFiring, StartedAt: now}
			if !c.rule.source {
				in.ErrorSamples = e.errs.top(c.subject, 3)
			}
			e.open[key] = in
			in.Summary, in.Facts, in.lastTrue = c.summary, c.facts, now
			e.log.Warn("alert firing", "alert", key, "severity", in.Severity, "summary", in.Summary)
			e.notify(*in)
			continue
		}
		// The summary stays as it fired (the resolved message repeats it);
		// the facts follow the latest evaluation, for the API.
		in.Facts, in.lastTrue = c.facts, now
	}
	if !full {
		return
	}
	for _, key := range sortedKeys(e.open) {
		in := e.open[key]
		if _, ok := active[key]; ok || now.Sub(in.lastTrue) < e.cfg.ResolveAfter {
			continue
		}
		in.State, in.ResolvedAt = StateResolved, now
		delete(e.open, key)
		e.resolved = append(e.resolved, in)
		if len(e.resolved) > maxResolved {
			e.resolved = slices.Delete(e.resolved, 0, len(e.resolved)-maxResolved)
		}
		e.log.Info("alert resolved", "alert", key, "after", now.Sub(in.StartedAt).String())
		e.notify(*in)
	}
}

// notify queues the incident's current state on every notifier.
func (e *Engine) notify(in Incident) {
	if e.cfg.Queue != nil && len(e.outboxes) > 0 {
		e.unstored = append(e.unstored, in)
		return
	}
	for _, ob := range e.outboxes {
		n := in
		n.RunbookURL = runbookURL(ob.runbook, in.Runbook)
		ob.enqueue(n)
	}
}

func runbookURL(base, anchor string) string { return base + "#" + anchor }

// SLOStatus is one SLO for one destination, over the history there is.
type SLOStatus struct {
	Name        string
	Objective   string
	Kind        config.ObjectiveKind
	Destination string
	// Window is the SLO's period; Covered how much of it the in-memory
	// history spans so far (less after a restart).
	Window, Covered time.Duration
	Target          float64 // success and latency
	Threshold       time.Duration
	// Events is the attempts (success) or deliveries (latency) in Covered;
	// with none, SLI and BudgetRemaining are meaningless (HasData false).
	Events  float64
	HasData bool
	SLI     float64
	// BudgetRemaining is the share of the error budget left: 1 untouched,
	// 0 spent, negative overspent.
	BudgetRemaining float64
	// BurnRates by window ("5m", "30m", "1h", "6h").
	BurnRates map[string]float64
	// TimeToDrain is the current estimate in seconds (drain objectives);
	// +Inf when nothing completes while work waits.
	TimeToDrain float64
	Firing      bool
}

// SLOs reports every SLO's status at the newest sample, one entry per
// covered destination.
func (e *Engine) SLOs() []SLOStatus {
	e.mu.Lock()
	defer e.mu.Unlock()
	latest := e.minutes.newest()
	if latest == nil {
		return nil
	}
	now := latest.at
	var out []SLOStatus
	for i := range e.slos {
		s := &e.slos[i]
		for _, d := range s.targets(sortedKeys(latest.dests)) {
			st := SLOStatus{Name: s.name, Objective: s.objective, Kind: s.obj.Kind, Destination: d,
				Target: s.obj.Target, Threshold: s.obj.Threshold}
			switch s.obj.Kind {
			case config.ObjectiveDrain:
				st.TimeToDrain, st.HasData = e.timeToDrain(latest, d)
				_, st.Firing = e.open[ruleDrain.key(s.name, d)]
			default:
				st.Window = s.window
				w, _ := e.window(now, s.window)
				st.Covered = w.covered()
				bad, total := e.ratio(now, s, d, s.window)
				st.Events, st.HasData = total, total > 0
				if total > 0 {
					st.SLI = 1 - bad/total
					st.BudgetRemaining = 1 - (bad/total)/(1-s.obj.Target)
				} else {
					st.BudgetRemaining = 1
				}
				st.BurnRates = e.burnRates(now, s, d)
				r := &ruleSuccessBurn
				if s.obj.Kind == config.ObjectiveLatency {
					r = &ruleLatencyBurn
				}
				_, st.Firing = e.open[r.key(s.name, d)]
			}
			out = append(out, st)
		}
	}
	return out
}

// errorSamples keeps the latest sanitized errors of each destination.
type errorSamples struct {
	mu   sync.Mutex
	recs map[string][]errorRec // destination → newest last, at most perDest
}

type errorRec struct{ class, text string }

const samplesPerDest = 64

func newErrorSamples() *errorSamples { return &errorSamples{recs: map[string][]errorRec{}} }

func (s *errorSamples) add(dest, class, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.recs[dest]
	if len(r) >= samplesPerDest {
		r = slices.Delete(r, 0, len(r)-samplesPerDest+1)
	}
	// Sanitizing on the way in keeps memory bounded and nothing raw held.
	s.recs[dest] = append(r, errorRec{class, sanitize(text)})
}

// top returns the n most frequent recent errors as "class: text (×count)".
func (s *errorSamples) top(dest string, n int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	type agg struct {
		rec   errorRec
		count int
		last  int
	}
	byRec := map[errorRec]*agg{}
	for i, r := range s.recs[dest] {
		a := byRec[r]
		if a == nil {
			a = &agg{rec: r}
			byRec[r] = a
		}
		a.count++
		a.last = i
	}
	all := make([]*agg, 0, len(byRec))
	for _, a := range byRec {
		all = append(all, a)
	}
	slices.SortFunc(all, func(a, b *agg) int { return cmp.Or(b.count-a.count, b.last-a.last) })
	var out []string
	for _, a := range all[:min(n, len(all))] {
		line := a.rec.class
		if a.rec.text != "" {
			line += ": " + a.rec.text
		}
		if a.count > 1 {
			line += " (×" + strconv.Itoa(a.count) + ")"
		}
		out = append(out, line)
	}
	return out
}

var (
	quotedRE = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'[^']*'|\x60[^\x60]*\x60`)
	urlRE    = regexp.MustCompile(`\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s"']+`)
	emailRE  = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`)
)

const maxSampleLen = 160

// sanitize makes an error text safe for an alert message: quoted values
// (which may hold payload data or a URL with a token), URLs and email
// addresses are replaced, control characters dropped, and the result
// shortened. Error texts never hold bodies, but a transform error may
// quote a value from one.
func sanitize(s string) string {
	s = quotedRE.ReplaceAllString(s, `"…"`)
	s = urlRE.ReplaceAllStringFunc(s, func(u string) string {
		scheme, rest, _ := strings.Cut(u, "://")
		host := rest
		if i := strings.IndexAny(host, "/?#"); i >= 0 {
			host = host[:i]
		}
		if i := strings.LastIndexByte(host, '@'); i >= 0 {
			host = host[i+1:]
		}
		return scheme + "://" + host + "/…"
	})
	s = emailRE.ReplaceAllString(s, "…@…")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > maxSampleLen {
		s = string(r[:maxSampleLen-1]) + "…"
	}
	return s
}
