package deliver

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"
)

// Alert event kinds passed to Config.Events (the alert engine's names).
const (
	EventBreakerOpened       = "breaker_opened"
	EventBreakerClosed       = "breaker_closed"
	EventDestinationDisabled = "destination_disabled"
	EventDestinationEnabled  = "destination_enabled"
)

// ControlObserver is told about breaker state changes and rate-limit
// waits (metrics hook); optional.
type ControlObserver interface {
	BreakerState(destination string, state int)
	RateLimited(destination string, wait time.Duration)
}

// controls is a dispatcher's view of its destination's shared state: the
// status last read from the store, the local breaker, and the failure
// clock.
type controls struct {
	mu           sync.Mutex
	state        store.DestinationState
	failingSince time.Time // start of the current run of failures; zero if none known
}

func (p *dispatcher) status() store.DestinationState {
	p.ctl.mu.Lock()
	defer p.ctl.mu.Unlock()
	return p.ctl.state
}

// Refresh reads every destination's shared state from the store and
// applies it: a pause or disable from any node holds the destination here
// too, an enable wakes it, a breaker another node opened is opened here
// until the same time. Run calls it every IdlePoll; the admin API calls it
// (through Wake hooks) after changing a status so this node reacts at once.
func (e *Engine) Refresh(ctx context.Context) error {
	if e.cfg.Controls == nil {
		return nil
	}
	e.refreshMu.Lock()
	defer e.refreshMu.Unlock()
	states, err := e.cfg.Controls.DestinationStates(ctx)
	if err != nil {
		return err
	}
	byName := make(map[string]store.DestinationState, len(states))
	for _, s := range states {
		byName[s.Destination] = s
	}
	now := e.cfg.Now()
	for name, p := range e.dests {
		st, ok := byName[name]
		if !ok {
			st = store.DestinationState{Destination: name, Status: store.StatusActive}
		}
		p.ctl.mu.Lock()
		old := p.ctl.state
		p.ctl.state = st
		p.ctl.failingSince = st.FailingSince
		p.ctl.mu.Unlock()
		switch {
		case old.Status == store.StatusDisabled && st.Status == store.StatusActive:
			e.event(EventDestinationEnabled, name, "enabled again")
		case old.Status != store.StatusDisabled && st.Status == store.StatusDisabled:
			// Disabled by another node, or before this node started: the
			// alert is raised here too (the alert engine deduplicates).
			e.event(EventDestinationDisabled, name, st.Reason)
		}
		if old.Held() && !st.Held() {
			if p.breaker != nil {
				p.breaker.Reset()
				p.breakerChanged(BreakerClosed)
			}
			e.Wake(name)
		}
		if p.breaker != nil && st.BreakerOpenUntil.After(now) && p.breaker.Trip(st.BreakerOpenUntil) {
			p.breakerChanged(BreakerOpen)
			e.event(EventBreakerOpened, name, "opened by another node")
		}
	}
	return nil
}

// Held reports whether the destination's due deliveries are waiting on
// purpose: paused, disabled, or its breaker open.
func (e *Engine) Held(destination string) bool {
	p, ok := e.dests[destination]
	if !ok {
		return false
	}
	return p.status().Held() || (p.breaker != nil && p.breaker.State() == BreakerOpen)
}

// BreakerState returns the destination's breaker state on this node
// (BreakerClosed when it has none).
func (e *Engine) BreakerState(destination string) int {
	if p, ok := e.dests[destination]; ok && p.breaker != nil {
		return p.breaker.State()
	}
	return BreakerClosed
}

func (e *Engine) event(kind, destination, detail string) {
	if e.cfg.Events != nil {
		e.cfg.Events(kind, destination, detail)
	}
}

func (p *dispatcher) breakerChanged(state int) {
	if o := p.e.cfg.ControlObserver; o != nil {
		o.BreakerState(p.d.Name, state)
	}
}

// hold decides whether the dispatcher may claim now: ok false with a wait
// when the destination is paused, disabled or its breaker is open; probe
// true when only one half-open probe may go.
func (p *dispatcher) hold(now time.Time) (ok, probe bool, wait time.Duration) {
	if p.status().Held() {
		return false, false, p.e.cfg.IdlePoll
	}
	if p.breaker == nil {
		return true, false, 0
	}
	from := p.breaker.State()
	n, wait := p.breaker.Allow(now)
	if to := p.breaker.State(); to != from {
		p.breakerChanged(to)
	}
	switch n {
	case 0:
		return false, false, wait
	case 1:
		return true, true, 0
	}
	return true, false, 0
}

// deadLetterOpen dead-letters up to n due deliveries because the breaker
// is open (on_open: dead_letter); it reports whether it found any.
func (p *dispatcher) deadLetterOpen(ctx context.Context, n int) bool {
	now := p.e.cfg.Now()
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	cs, err := p.e.cfg.Store.DeliveryClaim(cctx, store.ClaimParams{Destination: p.d.Name, Owner: p.e.cfg.Owner,
		Limit: n, Lease: p.lease, Now: now})
	if err != nil {
		p.e.log.Error("claim failed", "destination", p.d.Name, "error", err.Error())
		return false
	}
	for i := range cs {
		d, ev := &cs[i].Delivery, &cs[i].Event
		a := webhook.Attempt{DeliveryID: d.ID, Number: d.Attempts + 1, StartedAt: now, ErrorClass: webhook.ClassBreakerOpen,
			Error: "not sent: the destination's circuit breaker is open (on_open: dead_letter)"}
		if err := p.e.cfg.Store.DeliveryDead(cctx, d.ID, d.LeaseToken, a); err != nil {
			p.e.log.Error("outcome not recorded", "destination", p.d.Name, "event_id", ev.ID, "error", err.Error())
			continue
		}
		if p.e.cfg.Observer != nil {
			p.e.cfg.Observer.Attempted(p.d.Name, d, ev, &a, webhook.StateDead)
		}
	}
	return len(cs) > 0
}

// takeTokens asks the shared bucket for up to want sends; 0 with a wait
// when the rate limit is reached.
func (p *dispatcher) takeTokens(ctx context.Context, want int, now time.Time) (int, time.Duration, error) {
	if p.d.Rate <= 0 || p.e.cfg.Controls == nil {
		return want, 0, nil
	}
	got, wait, err := p.e.cfg.Controls.DestinationTakeTokens(ctx, p.d.Name, want, p.d.Rate, p.d.Burst, now)
	if err == nil && got == 0 {
		if o := p.e.cfg.ControlObserver; o != nil {
			o.RateLimited(p.d.Name, wait)
		}
	}
	return got, wait, err
}

func (p *dispatcher) returnTokens(n int) {
	if p.d.Rate <= 0 || p.e.cfg.Controls == nil || n <= 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.e.cfg.Controls.DestinationReturnTokens(ctx, p.d.Name, n, p.d.Burst); err != nil {
		p.e.log.Warn("rate limit tokens not returned", "destination", p.d.Name, "error", err.Error())
	}
}

// breakerFailure reports whether an outcome says the destination itself is
// unwell (it counts against the breaker and the failure clock); a
// permanent 4xx or a transform error is about one message, not the
// destination.
func breakerFailure(o Outcome) bool {
	switch o.Class {
	case webhook.ClassTimeout, webhook.ClassConnection, webhook.ClassHTTP5xx, webhook.ClassHTTP429:
		return true
	}
	return false
}

// observe feeds an attempt's outcome to the breaker, the failure clock and
// auto-disable.
func (p *dispatcher) observe(ctx context.Context, o Outcome, at time.Time) {
	if o.DisableDestination {
		p.disable(ctx, fmt.Sprintf("HTTP %d: the destination answered Gone", o.StatusCode), at)
	}
	failed := breakerFailure(o)
	if !o.OK() && !failed {
		// Says nothing about the destination's health; a probe that ended
		// so lets the next one go.
		if p.breaker != nil {
			p.breaker.Unprobe()
		}
		return
	}
	if p.breaker != nil {
		if from, to := p.breaker.Record(!failed, at); from != to {
			p.breakerMoved(ctx, from, to)
			p.breakerChanged(to)
		}
	}
	ctl := p.e.cfg.Controls
	if ctl == nil {
		return
	}
	p.ctl.mu.Lock()
	since := p.ctl.failingSince
	p.ctl.mu.Unlock()
	if !failed {
		if !since.IsZero() {
			if err := ctl.DestinationRecovered(ctx, p.d.Name); err != nil {
				p.e.log.Warn("failure clock not reset", "destination", p.d.Name, "error", err.Error())
				return
			}
			p.ctl.mu.Lock()
			p.ctl.failingSince = time.Time{}
			p.ctl.mu.Unlock()
		}
		return
	}
	if since.IsZero() {
		var err error
		if since, err = ctl.DestinationFailing(ctx, p.d.Name, at); err != nil {
			p.e.log.Warn("failure clock not started", "destination", p.d.Name, "error", err.Error())
			return
		}
		p.ctl.mu.Lock()
		p.ctl.failingSince = since
		p.ctl.mu.Unlock()
	}
	if p.d.DisableAfter > 0 && at.Sub(since) >= p.d.DisableAfter {
		p.disable(ctx, fmt.Sprintf("every attempt failed since %s (disable_after %s)",
			since.UTC().Format(time.RFC3339), p.d.DisableAfter), at)
	}
}

// breakerMoved shares an opened breaker with the other nodes and raises
// the alert events.
func (p *dispatcher) breakerMoved(ctx context.Context, from, to int) {
	switch {
	case to == BreakerOpen:
		until := p.breaker.OpenUntil()
		if ctl := p.e.cfg.Controls; ctl != nil {
			if err := ctl.DestinationBreakerOpen(ctx, p.d.Name, until); err != nil {
				p.e.log.Warn("open breaker not shared", "destination", p.d.Name, "error", err.Error())
			}
		}
		if from == BreakerClosed {
			p.e.log.Warn("circuit breaker opened", "destination", p.d.Name, "until", until.UTC().Format(time.RFC3339))
			p.e.event(EventBreakerOpened, p.d.Name, "failures crossed the breaker's threshold")
		}
	case to == BreakerClosed:
		if ctl := p.e.cfg.Controls; ctl != nil {
			if err := ctl.DestinationBreakerOpen(ctx, p.d.Name, time.Time{}); err != nil {
				p.e.log.Warn("closed breaker not shared", "destination", p.d.Name, "error", err.Error())
			}
		}
		p.e.log.Info("circuit breaker closed", "destination", p.d.Name)
		p.e.event(EventBreakerClosed, p.d.Name, "probe succeeded")
		p.e.Wake(p.d.Name)
	}
}

// disable marks the destination disabled for every node; its deliveries
// wait until an operator enables it.
func (p *dispatcher) disable(ctx context.Context, reason string, at time.Time) {
	ctl := p.e.cfg.Controls
	if ctl == nil {
		return
	}
	st, changed, err := ctl.DestinationSetStatus(ctx, p.d.Name, []string{store.StatusActive}, store.StatusDisabled, reason, at)
	if err != nil {
		p.e.log.Error("destination not disabled", "destination", p.d.Name, "error", err.Error())
		return
	}
	p.ctl.mu.Lock()
	p.ctl.state = st
	p.ctl.mu.Unlock()
	if changed {
		p.e.log.Warn("destination disabled", "destination", p.d.Name, "reason", reason)
		p.e.event(EventDestinationDisabled, p.d.Name, reason)
	}
}
