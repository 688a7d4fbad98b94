// Package route decides where an event goes and in what shape: which
// routes match (filter), at what priority, under which ordering key — all
// evaluated at ingest, cheaply — and the payload each destination receives
// (transform, with an optional shadow and canary), evaluated by the worker
// just before sending, so a slow transform never slows the ACK.
package route

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hookyard/hookyard/internal/outcome"
	"github.com/hookyard/hookyard/internal/transform"
	"github.com/hookyard/hookyard/internal/webhook"
)

// Route is one compiled route.
type Route struct {
	Name        string
	Source      string
	Destination string
	MaxAttempts int
	BlockOnDead bool

	Filter      *transform.Program // nil: every event
	Priority    *transform.Program // nil: normal
	OrderingKey *transform.Program // nil: unordered
	Transform   *transform.Program // nil: the original body is sent
	Shadow      *transform.Program // run beside Transform, never sent
	Canary      *transform.Program // sent instead of Transform for CanaryPercent of events
	// CanaryPercent is the share of events (by event id) that get Canary.
	CanaryPercent float64

	// Version and CanaryVersion stamp each delivery with the route and
	// transform that produced it.
	Version, CanaryVersion string
}

// needsEnvelope reports whether deciding this route reads the body.
func (r *Route) needsEnvelope() bool {
	return r.Filter != nil || r.Priority != nil || r.OrderingKey != nil
}

// Observer counts evaluation errors and shadow differences; optional.
type Observer interface {
	RouteError(route, stage string)
	ShadowCompared(route string, differences int)
}

// Table holds every route, by source and by name.
type Table struct {
	bySource map[string][]*Route
	byName   map[string]*Route
	log      *slog.Logger
	obs      Observer
	shadows  *ShadowLog
}

// New builds a table. log and obs may be nil.
func New(routes []*Route, log *slog.Logger, obs Observer) *Table {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := &Table{bySource: map[string][]*Route{}, byName: map[string]*Route{}, log: log, obs: obs,
		shadows: NewShadowLog(ShadowKept)}
	for _, r := range routes {
		t.bySource[r.Source] = append(t.bySource[r.Source], r)
		t.byName[r.Name] = r
	}
	return t
}

// Route returns a route by name.
func (t *Table) Route(name string) (*Route, bool) {
	r, ok := t.byName[name]
	return r, ok
}

// Shadows is the log of recent shadow differences.
func (t *Table) Shadows() *ShadowLog { return t.shadows }

// Deliveries decides ev's deliveries: one per matching route of its source
// (fan-out), each with its priority, ordering key and version. The body is
// decoded only if a route has an expression.
//
// Evaluation errors fail safe and are logged and counted: a filter that
// fails does not match; a priority that fails is normal; an ordering key
// that fails leaves the delivery unordered.
func (t *Table) Deliveries(ctx context.Context, ev *webhook.Event) []webhook.NewDelivery {
	routes := t.bySource[ev.Source]
	if len(routes) == 0 {
		return nil
	}
	var env map[string]any
	envelope := func() map[string]any {
		if env == nil {
			env = transform.EnvelopeOf(ev).Value()
		}
		return env
	}
	out := make([]webhook.NewDelivery, 0, len(routes))
	for _, r := range routes {
		d := webhook.NewDelivery{Destination: r.Destination, Route: r.Name, Priority: webhook.PriorityNormal,
			MaxAttempts: r.MaxAttempts, BlockOnDead: r.BlockOnDead, Version: r.Version}
		if r.Canary != nil && transform.InCanary(ev.ID, r.CanaryPercent) {
			d.Version = r.CanaryVersion
		}
		if !r.needsEnvelope() {
			out = append(out, d)
			continue
		}
		if r.Filter != nil {
			ok, err := r.Filter.Filter(ctx, envelope())
			if err != nil {
				t.evalError(r, "filter", ev, err)
				continue
			}
			if !ok {
				continue
			}
		}
		if r.Priority != nil {
			p, err := r.Priority.Priority(ctx, envelope())
			if err != nil {
				t.evalError(r, "priority", ev, err)
			} else {
				d.Priority = p
			}
		}
		if r.OrderingKey != nil {
			k, err := r.OrderingKey.OrderingKey(ctx, envelope())
			if err != nil {
				t.evalError(r, "ordering_key", ev, err)
			} else {
				d.OrderingKey = k
			}
		}
		out = append(out, d)
	}
	return out
}

func (t *Table) evalError(r *Route, stage string, ev *webhook.Event, err error) {
	t.log.Warn("route expression failed", "route", r.Name, "stage", stage, "event_id", ev.ID, "error", err.Error())
	if t.obs != nil {
		t.obs.RouteError(r.Name, stage)
	}
}

// Payload returns what delivery d sends: nil for the original body, or the
// transform's output as JSON. A transform that fails or exceeds its limits
// returns a permanent error of class transform, so the delivery is
// dead-lettered with the jq error and input path rather than retried; a
// transform that yields nothing returns outcome.ErrNothingToSend. A
// cancelled context (shutdown) is returned as it is, so the delivery is
// released, not dead-lettered.
func (t *Table) Payload(ctx context.Context, d *webhook.Delivery, ev *webhook.Event) ([]byte, error) {
	r, ok := t.byName[d.Route]
	if !ok || r.Transform == nil {
		return nil, nil
	}
	prog := r.Transform
	canary := r.Canary != nil && transform.InCanary(ev.ID, r.CanaryPercent)
	if canary {
		prog = r.Canary
	}
	env := transform.EnvelopeOf(ev).Value()
	outs, err := prog.RunJSON(ctx, env)
	if err == nil && len(outs) > 1 {
		err = fmt.Errorf("%w: %s yields %d outputs; a transform must yield one", transform.ErrFailed, prog.Name(), len(outs))
	}
	if err != nil {
		if ctx.Err() != nil && !isTransformError(err) {
			return nil, err
		}
		if t.obs != nil {
			t.obs.RouteError(r.Name, "transform")
		}
		return nil, &outcome.Error{Err: err, Permanent: true, Class: webhook.ClassTransform}
	}
	if len(outs) == 0 {
		return nil, outcome.ErrNothingToSend
	}
	if r.Shadow != nil && !canary {
		var live any
		if err := json.Unmarshal(outs[0], &live); err == nil {
			t.shadow(ctx, r, ev, env, live)
		}
	}
	return outs[0], nil
}

func isTransformError(err error) bool {
	return errors.Is(err, transform.ErrTimeout) || errors.Is(err, transform.ErrTooLarge) ||
		errors.Is(err, transform.ErrFailed) || errors.Is(err, transform.ErrCompile)
}

// first runs p and returns its single output (null when it yields none).
func first(ctx context.Context, p *transform.Program, input any) (any, error) {
	outs, err := p.Run(ctx, input)
	if err != nil {
		return nil, err
	}
	switch len(outs) {
	case 0:
		return nil, nil
	case 1:
		return outs[0], nil
	}
	return nil, fmt.Errorf("%s yields %d outputs; a transform must yield one", p.Name(), len(outs))
}

func (t *Table) shadow(ctx context.Context, r *Route, ev *webhook.Event, env map[string]any, live any) {
	cand, err := first(ctx, r.Shadow, env)
	var changes []transform.Change
	if err != nil {
		changes = []transform.Change{{Path: ".", Kind: "error", New: err.Error()}}
	} else {
		changes = transform.Diff(live, cand, 20)
	}
	if t.obs != nil {
		t.obs.ShadowCompared(r.Name, len(changes))
	}
	t.shadows.add(ShadowDiff{Route: r.Name, EventID: ev.ID, At: time.Now().UTC(), Changes: changes})
}

// ErrNoRoute is returned by Preview for an unknown route.
var ErrNoRoute = errors.New("no such route")

// ShadowKept is how many differing events a Table keeps per route.
const ShadowKept = 100

// ShadowDiff is one event where the shadow transform disagreed: the
// changes from the live output to the shadow's (at most 20), or one change
// of kind "error" at "." when the shadow failed.
type ShadowDiff struct {
	Route   string             `json:"route"`
	EventID string             `json:"event_id"`
	At      time.Time          `json:"at"`
	Changes []transform.Change `json:"changes"`
}

// ShadowLog keeps, per route, how many events were compared, how many
// differed, and the first differing ones up to a bound. It lives in memory:
// each node keeps its own, from its start.
type ShadowLog struct {
	mu       sync.Mutex
	max      int
	diffs    map[string][]ShadowDiff
	count    map[string]int
	compared map[string]int
}

// NewShadowLog keeps up to max differences per route.
func NewShadowLog(max int) *ShadowLog {
	return &ShadowLog{max: max, diffs: map[string][]ShadowDiff{}, count: map[string]int{}, compared: map[string]int{}}
}

// add records one comparison; d.Changes empty means the outputs agreed.
func (l *ShadowLog) add(d ShadowDiff) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.compared[d.Route]++
	if len(d.Changes) == 0 {
		return
	}
	l.count[d.Route]++
	if len(l.diffs[d.Route]) < l.max {
		l.diffs[d.Route] = append(l.diffs[d.Route], d)
	}
}

// ShadowReport is a route's shadow comparison on this node since it started.
type ShadowReport struct {
	Route     string       `json:"route"`
	Compared  int          `json:"compared"`  // events run through both transforms
	Differing int          `json:"differing"` // of which the outputs differed
	KeptMax   int          `json:"kept_max"`  // differing events kept, at most
	Diffs     []ShadowDiff `json:"diffs"`     // the first differing events, oldest first
}

// ShadowReport returns the named route's shadow comparison. A route
// without a shadow transform is ErrNoShadow.
func (t *Table) ShadowReport(name string) (ShadowReport, error) {
	r, ok := t.byName[name]
	switch {
	case !ok:
		return ShadowReport{}, fmt.Errorf("%w: %q", ErrNoRoute, name)
	case r.Shadow == nil:
		return ShadowReport{}, fmt.Errorf("%w: route %q", ErrNoShadow, name)
	}
	l := t.shadows
	l.mu.Lock()
	defer l.mu.Unlock()
	return ShadowReport{Route: name, Compared: l.compared[name], Differing: l.count[name], KeptMax: l.max,
		Diffs: append([]ShadowDiff{}, l.diffs[name]...)}, nil
}

// ErrNoShadow is returned by ShadowReport for a route without a shadow.
var ErrNoShadow = errors.New("no shadow transform")

// Get returns a route's kept differences and how many events differed.
func (l *ShadowLog) Get(route string) ([]ShadowDiff, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]ShadowDiff(nil), l.diffs[route]...), l.count[route]
}

// Stages is what each stage of a route makes of one event, for preview.
type Stages struct {
	Route       string             `json:"route"`
	Envelope    map[string]any     `json:"envelope"`
	Matched     bool               `json:"matched"`
	Priority    string             `json:"priority"`
	OrderingKey string             `json:"ordering_key,omitempty"`
	Version     string             `json:"version"`
	Canary      bool               `json:"canary"`
	Output      any                `json:"output,omitempty"`
	Shadow      any                `json:"shadow,omitempty"`
	ShadowDiff  []transform.Change `json:"shadow_diff,omitempty"`
	Errors      map[string]string  `json:"errors,omitempty"`
}

var priorityNames = map[int]string{webhook.PriorityHigh: "high", webhook.PriorityNormal: "normal", webhook.PriorityLow: "low"}

// Preview runs every stage of the named route on ev without sending
// anything: the envelope, the filter, priority, ordering key, the
// transform's output and the shadow's difference.
func (t *Table) Preview(ctx context.Context, name string, ev *webhook.Event) (*Stages, error) {
	r, ok := t.byName[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrNoRoute, name)
	}
	env := transform.EnvelopeOf(ev).Value()
	st := &Stages{Route: name, Envelope: env, Matched: true, Priority: "normal", Version: r.Version, Errors: map[string]string{}}
	if r.Filter != nil {
		ok, err := r.Filter.Filter(ctx, env)
		if err != nil {
			st.Errors["filter"] = err.Error()
		}
		st.Matched = ok && err == nil
	}
	if r.Priority != nil {
		p, err := r.Priority.Priority(ctx, env)
		if err != nil {
			st.Errors["priority"] = err.Error()
		} else {
			st.Priority = priorityNames[p]
		}
	}
	if r.OrderingKey != nil {
		k, err := r.OrderingKey.OrderingKey(ctx, env)
		if err != nil {
			st.Errors["ordering_key"] = err.Error()
		}
		st.OrderingKey = k
	}
	prog := r.Transform
	if r.Canary != nil && transform.InCanary(ev.ID, r.CanaryPercent) {
		st.Canary, st.Version, prog = true, r.CanaryVersion, r.Canary
	}
	if prog != nil {
		out, err := first(ctx, prog, env)
		if err != nil {
			st.Errors["transform"] = err.Error()
		}
		st.Output = out
		if r.Shadow != nil && err == nil {
			sh, err := first(ctx, r.Shadow, env)
			if err != nil {
				st.Errors["shadow"] = err.Error()
			} else {
				st.Shadow = sh
				st.ShadowDiff = transform.Diff(out, sh, 100)
			}
		}
	} else {
		st.Output = env["body"]
	}
	if len(st.Errors) == 0 {
		st.Errors = nil
	}
	return st, nil
}
