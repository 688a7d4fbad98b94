// Package deliver moves deliveries from the queue to their destinations:
// it claims due work with a lease, sends each attempt, classifies the
// outcome, and records success, a retry at backoff with jitter, or the
// dead-letter queue.
//
// Every destination has its own dispatcher and its own budget of in-flight
// sends, so a slow or dead destination only ever occupies its own slots and
// never delays the others.
package deliver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookyard/hookyard/internal/dest"
	"github.com/hookyard/hookyard/internal/outcome"
	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/tracing"
	"github.com/hookyard/hookyard/internal/webhook"
)

// Store is what the worker needs of the store.
type Store interface {
	DeliveryClaim(ctx context.Context, p store.ClaimParams) ([]webhook.Claimed, error)
	DeliveryNextDue(ctx context.Context, destination string) (time.Time, bool, error)
	DeliverySucceed(ctx context.Context, id string, leaseToken int64, a webhook.Attempt) error
	DeliveryRetry(ctx context.Context, id string, leaseToken int64, a webhook.Attempt, next time.Time) error
	DeliveryDead(ctx context.Context, id string, leaseToken int64, a webhook.Attempt) error
	DeliveryRelease(ctx context.Context, id string, leaseToken int64) error
}

// Sender sends one attempt (dest.Sender satisfies it).
type Sender interface {
	Send(ctx context.Context, m *dest.Message) dest.Response
}

// Destination is one destination's delivery settings.
type Destination struct {
	Name        string
	Sender      Sender
	Policy      Policy
	Concurrency int           // in-flight sends; default 16
	Timeout     time.Duration // per attempt, used to size the lease; default 15s
	// HighReserve is how many of the Concurrency slots only high-priority
	// deliveries may use, so a backlog of normal work cannot delay them;
	// default a quarter (none when Concurrency is 1).
	HighReserve int
	// Breaker is the circuit breaker; the zero value has none.
	Breaker BreakerConfig
	// DeadLetterOnOpen dead-letters due deliveries while the breaker is
	// open (class breaker_open, replayable) instead of holding them.
	DeadLetterOnOpen bool
	// Rate limits sends to this many per second across every node sharing
	// the store (a token bucket in the database); 0 is unlimited. Burst is
	// the bucket's size; default the rate rounded up (at least 1).
	Rate  float64
	Burst int
	// DisableAfter disables the destination once every attempt has failed
	// for this long; 0 never does.
	DisableAfter time.Duration
	// MaxInFlight caps live leases across every node sharing the store
	// (Concurrency is per node); 0 is no cluster-wide cap.
	MaxInFlight int
}

// Transformer shapes a delivery's payload just before it is sent: nil
// means the original body. An error is the attempt's outcome (a failing
// transform returns a permanent error of class transform).
type Transformer interface {
	Payload(ctx context.Context, d *webhook.Delivery, ev *webhook.Event) ([]byte, error)
}

// Observer is told about every recorded attempt (metrics hook); optional.
type Observer interface {
	Attempted(destination string, d *webhook.Delivery, ev *webhook.Event, a *webhook.Attempt, final webhook.State)
}

// Config wires an Engine. Store and Destinations are required.
type Config struct {
	Store        Store
	Destinations []Destination
	Owner        string       // lease owner name, e.g. hostname:pid
	Logger       *slog.Logger // default discards
	Now          func() time.Time
	Rand         func() float64 // uniform [0,1); default math/rand/v2
	IdlePoll     time.Duration  // longest sleep with no known due work; default 1s
	Observer     Observer
	Transformer  Transformer // optional
	// Controls is the shared destination state (pause, disable, breaker,
	// rate-limit buckets); nil enforces none of them.
	Controls store.Destinations
	// Events, if set, hears breaker and disable events (the alert engine).
	Events          func(kind, destination, detail string)
	ControlObserver ControlObserver // optional
	// Tracer starts a span per attempt (a child of the event's ingest
	// span) and per transform; nil is off.
	Tracer *tracing.Tracer
	// Grace bounds how long Run waits for in-flight sends after its context
	// ends; sends still running then are cancelled and their deliveries
	// released without using an attempt. Default 10s.
	Grace time.Duration
}

// Engine runs one dispatcher per destination.
type Engine struct {
	cfg   Config
	log   *slog.Logger
	dests map[string]*dispatcher
	// refreshMu makes each Refresh read and apply the stored states as one
	// step, so a slow periodic refresh cannot apply an older read over a
	// newer one (a resume undone, or a pause lost).
	refreshMu sync.Mutex
}

type dispatcher struct {
	e       *Engine
	d       Destination
	wake    chan struct{}
	lease   time.Duration
	breaker *Breaker // nil when the destination has none
	ctl     controls
}

// New returns an Engine; call Run to start it.
func New(cfg Config) *Engine {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Float64
	}
	if cfg.IdlePoll <= 0 {
		cfg.IdlePoll = time.Second
	}
	if cfg.Grace <= 0 {
		cfg.Grace = 10 * time.Second
	}
	if cfg.Owner == "" {
		cfg.Owner = "hookyard"
	}
	e := &Engine{cfg: cfg, log: cfg.Logger, dests: make(map[string]*dispatcher)}
	for _, d := range cfg.Destinations {
		if d.Concurrency <= 0 {
			d.Concurrency = 16
		}
		if d.Timeout <= 0 {
			d.Timeout = 15 * time.Second
		}
		if d.HighReserve <= 0 {
			d.HighReserve = d.Concurrency / 4
		}
		d.HighReserve = min(d.HighReserve, d.Concurrency-1)
		if d.Rate > 0 && d.Burst <= 0 {
			d.Burst = max(1, int(math.Ceil(d.Rate)))
		}
		p := &dispatcher{e: e, d: d, wake: make(chan struct{}, 1), lease: d.Timeout + 30*time.Second}
		p.ctl.state = store.DestinationState{Destination: d.Name, Status: store.StatusActive}
		if d.Breaker.Enabled() {
			p.breaker = NewBreaker(d.Breaker)
		}
		e.dests[d.Name] = p
	}
	return e
}

// Wake tells the destination's dispatcher that new work may be due. It never
// blocks.
func (e *Engine) Wake(destination string) {
	if p, ok := e.dests[destination]; ok {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
}

// WakeAll wakes every destination's dispatcher (after a replay, say).
func (e *Engine) WakeAll() {
	for name := range e.dests {
		e.Wake(name)
	}
}

// Run delivers until ctx ends, then lets in-flight sends finish (up to
// Config.Grace) and returns.
func (e *Engine) Run(ctx context.Context) error {
	// hard ends in-flight sends when the grace period runs out.
	hard, cancelHard := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelHard()
	var wg sync.WaitGroup
	var inflight sync.WaitGroup
	if e.cfg.Controls != nil {
		// The shared state is read before the first claim, so a paused or
		// disabled destination sends nothing after a restart.
		if err := e.Refresh(ctx); err != nil {
			e.log.Error("destination state unavailable", "error", err.Error())
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.refreshLoop(ctx)
		}()
	}
	for _, p := range e.dests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.loop(ctx, hard, &inflight)
		}()
	}
	wg.Wait() // dispatchers stop claiming as soon as ctx ends
	done := make(chan struct{})
	go func() { inflight.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(e.cfg.Grace):
		e.log.Warn("grace period over; cancelling in-flight sends", "grace", e.cfg.Grace.String())
		cancelHard()
		<-done
	}
	return nil
}

// refreshLoop applies state changes made by other nodes (or the admin API
// on any node) within an idle poll.
func (e *Engine) refreshLoop(ctx context.Context) {
	t := time.NewTicker(e.cfg.IdlePoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := e.Refresh(ctx); err != nil && ctx.Err() == nil {
				e.log.Warn("destination state unavailable", "error", err.Error())
			}
		}
	}
}

func (p *dispatcher) loop(ctx, hard context.Context, inflight *sync.WaitGroup) {
	slots := make(chan struct{}, p.d.Concurrency)
	var lowerInFlight atomic.Int64 // in-flight normal and low deliveries
	freed := make(chan struct{}, 1)
	errBackoff := 100 * time.Millisecond
	// Claims are coalesced: with work in flight, wait (briefly) until a
	// quarter of the slots are free, so one claim statement leases several
	// deliveries instead of one per finished send.
	minClaim := max(1, p.d.Concurrency/4)
	round := 0
	coalesce := time.NewTimer(time.Hour)
	coalesce.Stop()
	for ctx.Err() == nil {
		free := p.d.Concurrency - len(slots)
		if free == 0 {
			select {
			case <-freed:
			case <-ctx.Done():
			}
			continue
		}
		if free < minClaim && len(slots) > 0 {
			coalesce.Reset(2 * time.Millisecond)
			select {
			case <-freed:
				coalesce.Stop()
				continue
			case <-coalesce.C:
			case <-ctx.Done():
				continue
			}
		}
		// Paused, disabled or breaker open: due work waits, using no
		// attempts. Half-open: one probe at a time.
		now := p.e.cfg.Now()
		ok, probe, wait := p.hold(now)
		if !ok {
			if p.d.DeadLetterOnOpen && !p.status().Held() && p.deadLetterOpen(ctx, free) {
				continue
			}
			sleep(ctx, wait, p.wake)
			continue
		}
		// Tiers: normal and low work may use all but the reserved slots;
		// when those are taken, only high work is claimed. Every eighth
		// round starts with one low delivery, so low never starves.
		lowerFree := p.d.Concurrency - p.d.HighReserve - int(lowerInFlight.Load())
		params := store.ClaimParams{Destination: p.d.Name, Owner: p.e.cfg.Owner, Limit: free, Lease: p.lease, Now: now,
			MaxInFlight: p.d.MaxInFlight}
		if lowerFree <= 0 {
			params.Tiers = store.TierHigh
		} else {
			params.Limit = min(free, lowerFree)
			if round++; round%8 == 0 {
				params.Tiers, params.Limit = store.TierLow, 1
			}
		}
		if probe {
			params.Limit = 1
		}
		tokens, wait, err := p.takeTokens(ctx, params.Limit, now)
		if err != nil || tokens == 0 {
			if probe {
				p.breaker.Unprobe()
			}
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				p.e.log.Error("rate limit unavailable", "destination", p.d.Name, "error", err.Error())
				wait = errBackoff
			}
			sleep(ctx, wait, nil)
			continue
		}
		params.Limit = tokens
		// The claim must not be abandoned half way by shutdown: a claim that
		// commits after its caller gave up would leave leased work nobody
		// runs until the lease expires. So it runs to completion, and work
		// claimed as shutdown began is released at once.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		cs, err := p.e.cfg.Store.DeliveryClaim(cctx, params)
		cancel()
		p.returnTokens(tokens - len(cs))
		if probe && len(cs) == 0 {
			p.breaker.Unprobe()
		}
		if err == nil && ctx.Err() != nil {
			p.releaseAll(cs)
			return
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			p.e.log.Error("claim failed", "destination", p.d.Name, "error", err.Error())
			sleep(ctx, errBackoff, p.wake)
			errBackoff = min(errBackoff*2, 5*time.Second)
			continue
		}
		errBackoff = 100 * time.Millisecond
		for i := range cs {
			slots <- struct{}{}
			inflight.Add(1)
			lower := cs[i].Delivery.Priority != webhook.PriorityHigh
			if lower {
				lowerInFlight.Add(1)
			}
			go func(c *webhook.Claimed) {
				defer inflight.Done()
				p.process(hard, c)
				if lower {
					lowerInFlight.Add(-1)
				}
				<-slots
				select {
				case freed <- struct{}{}:
				default:
				}
			}(&cs[i])
		}
		if len(cs) > 0 || params.Tiers == store.TierLow {
			continue
		}
		if params.Tiers == store.TierHigh {
			// Lower slots are full and no high work is due: wait for a slot
			// to free or for new (possibly high) work.
			t := time.NewTimer(p.e.cfg.IdlePoll)
			select {
			case <-freed:
			case <-p.wake:
			case <-t.C:
			case <-ctx.Done():
			}
			t.Stop()
			continue
		}
		// Nothing due: sleep until the next known due time, a wake-up from
		// ingest, a freed slot, or the idle poll (which also notices work
		// another node queued).
		wait = p.e.cfg.IdlePoll
		if due, ok, err := p.e.cfg.Store.DeliveryNextDue(ctx, p.d.Name); err == nil && ok {
			wait = min(max(due.Sub(p.e.cfg.Now()), time.Millisecond), wait)
		}
		sleep(ctx, wait, p.wake)
	}
}

// releaseAll returns claimed deliveries to the queue without using an
// attempt.
func (p *dispatcher) releaseAll(cs []webhook.Claimed) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, c := range cs {
		if err := p.e.cfg.Store.DeliveryRelease(ctx, c.Delivery.ID, c.Delivery.LeaseToken); err != nil && !errors.Is(err, webhook.ErrLeaseLost) {
			p.e.log.Error("release failed", "destination", p.d.Name, "event_id", c.Event.ID, "error", err.Error())
		}
	}
}

func sleep(ctx context.Context, d time.Duration, wake <-chan struct{}) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-wake:
	case <-ctx.Done():
	}
}

// process sends one attempt and records its outcome.
func (p *dispatcher) process(hard context.Context, c *webhook.Claimed) {
	d, ev := &c.Delivery, &c.Event
	number := d.Attempts + 1
	start := p.e.cfg.Now()
	sctx, span := p.e.cfg.Tracer.Attempt(hard, ev, d, number)
	resp := p.send(sctx, &dest.Message{Event: ev, Delivery: d, Attempt: number})
	end := p.e.cfg.Now()
	spanState, spanClass := webhook.StateInFlight, "shutdown"
	defer func() { tracing.EndAttempt(span, spanState, resp.StatusCode, spanClass) }()
	// Writes below must land even while shutting down.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(hard), 30*time.Second)
	defer cancel()
	if hard.Err() != nil && !resp.OK() {
		// Cut off by shutdown: not the destination's fault, so no attempt is used.
		if err := p.e.cfg.Store.DeliveryRelease(wctx, d.ID, d.LeaseToken); err != nil && !errors.Is(err, webhook.ErrLeaseLost) {
			p.e.log.Error("release failed", "destination", p.d.Name, "event_id", ev.ID, "error", err.Error())
		}
		return
	}
	a := webhook.Attempt{DeliveryID: d.ID, Number: number, StartedAt: start, Duration: end.Sub(start),
		StatusCode: resp.StatusCode, ResponseBody: resp.Body}
	var err error
	state := webhook.StateSucceeded
	out := Classify(resp.StatusCode, resp.Header, resp.Err, end)
	if errors.Is(resp.Err, outcome.ErrNothingToSend) {
		// The transform chose to send nothing: done, and the attempt says so.
		a.Error = resp.Err.Error()
		out = Outcome{}
	}
	switch {
	case out.OK():
		err = p.e.cfg.Store.DeliverySucceed(wctx, d.ID, d.LeaseToken, a)
	default:
		a.ErrorClass = out.Class
		a.Error = describe(out)
		if out.Permanent || number >= max(d.MaxAttempts, 1) {
			state = webhook.StateDead
			err = p.e.cfg.Store.DeliveryDead(wctx, d.ID, d.LeaseToken, a)
		} else {
			state = webhook.StatePending
			// Retry-After is honoured as a floor: never sooner than the
			// destination asked, never sooner than the backoff.
			wait := max(p.d.Policy.Next(number, p.e.cfg.Rand()), out.RetryAfter)
			err = p.e.cfg.Store.DeliveryRetry(wctx, d.ID, d.LeaseToken, a, end.Add(wait))
		}
	}
	p.observe(wctx, out, end)
	switch {
	case err == nil:
		spanState, spanClass = state, a.ErrorClass
	case errors.Is(err, webhook.ErrLeaseLost):
		// Another worker owns it now (our lease expired); its outcome wins.
		p.e.log.Warn("outcome fenced off: lease lost", "destination", p.d.Name, "event_id", ev.ID, "attempt", number)
		spanClass = "lease_lost"
		return
	case err != nil:
		spanClass = "not_recorded"
		// Not recorded: the lease will expire and the delivery is retried
		// (at-least-once; the idempotency key absorbs the repeat).
		p.e.log.Error("outcome not recorded", "destination", p.d.Name, "event_id", ev.ID, "attempt", number, "error", err.Error())
		return
	}
	if state == webhook.StateDead {
		p.e.log.Warn("delivery dead-lettered", "destination", p.d.Name, "event_id", ev.ID, "attempt", number,
			"status", a.StatusCode, "error_class", a.ErrorClass)
	}
	if p.e.cfg.Observer != nil {
		p.e.cfg.Observer.Attempted(p.d.Name, d, ev, &a, state)
	}
}

// send shapes the payload and calls the sender, turning a panic into a
// failed attempt.
func (p *dispatcher) send(ctx context.Context, m *dest.Message) (resp dest.Response) {
	defer func() {
		if r := recover(); r != nil {
			p.e.log.Error("sender panicked", "destination", p.d.Name, "event_id", m.Event.ID, "panic", fmt.Sprint(r))
			resp = dest.Response{Err: &Error{Err: fmt.Errorf("sender panicked: %v", r), Class: webhook.ClassInternal}}
		}
	}()
	if t := p.e.cfg.Transformer; t != nil {
		tctx, span := p.e.cfg.Tracer.Transform(ctx, m.Delivery)
		payload, err := t.Payload(tctx, m.Delivery, m.Event)
		if err != nil {
			if !errors.Is(err, outcome.ErrNothingToSend) {
				tracing.Fail(span, Classify(0, nil, err, p.e.cfg.Now()).Class)
			}
			span.End()
			return dest.Response{Err: err}
		}
		span.SetAttributes(tracing.AttrPayloadSize.Int(len(payload)))
		span.End()
		m.Payload = payload
	}
	return p.d.Sender.Send(ctx, m)
}

func describe(o Outcome) string {
	if o.Err != nil {
		return o.Err.Error()
	}
	return fmt.Sprintf("HTTP %d", o.StatusCode)
}
