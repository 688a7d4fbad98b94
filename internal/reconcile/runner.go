package reconcile

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/hookyard/hookyard/internal/leader"
	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"
)

// Store is what reconciliation needs of the store.
type Store interface {
	Ingest(ctx context.Context, ev *webhook.Event, ds []webhook.NewDelivery) (store.IngestResult, error)
	EventList(ctx context.Context, f store.EventFilter) ([]webhook.Event, string, error)
	EventGet(ctx context.Context, id string) (webhook.Event, error)
	store.Reconciles
}

// Router decides a backfilled event's deliveries, as at ingest.
type Router interface {
	Deliveries(ctx context.Context, ev *webhook.Event) []webhook.NewDelivery
}

// Waker is told which destinations have new work.
type Waker interface {
	Wake(destination string)
}

// Gate applies ingest's validation to a backfilled event (see
// ingest.Handler.Admit): it quarantines an event that fails and returns the
// reason; "" admits it.
type Gate interface {
	Admit(ctx context.Context, ev *webhook.Event) (reason string, err error)
}

// Observer is told about every finished run (metrics, alerts).
type Observer interface {
	Reconciled(r *Run, threshold int)
}

// Source is one source with reconciliation configured.
type Source struct {
	Name     string
	Provider string
	Lister   Lister
	// Backfill stores missing events; false only reports them.
	Backfill bool
	// Redeliver asks the provider to resend missing events (the Lister
	// must be a Redeliverer) instead of building them; it acts even
	// without Backfill.
	Redeliver bool
	// Every is the schedule (0: on demand only); Lookback the window.
	Every, Lookback time.Duration
	// Settle is how long the provider may take to deliver normally: a
	// window ends Settle before now by default, so events whose webhook is
	// still on its way are not backfilled ahead of it.
	Settle time.Duration
	// Threshold: a run that finds more missing events than this raises an
	// alert.
	Threshold int
	// Ordered stores a run's backfills oldest first (by Item.At), one at
	// a time: set it when a route of the source has an ordering key. The
	// run then collects its gaps over all pages before storing any and
	// checkpoints only at the end (a resumed run lists again from the
	// start, which dedup keeps safe).
	Ordered bool
}

// Config wires a Runner. Store, Router and Locker are required.
type Config struct {
	Sources  []Source
	Store    Store
	Router   Router
	Waker    Waker
	Locker   leader.Locker
	Elector  leader.Elector // nil: this node always schedules
	Observer Observer
	// Gate validates backfilled events as ingest validates webhooks; nil
	// stores them unchecked.
	Gate   Gate
	Logger *slog.Logger
	Now    func() time.Time
	// Tick is how often the scheduler looks for due runs; default 30s.
	Tick time.Duration
}

// Runner runs reconciliations on demand and on schedule.
type Runner struct {
	cfg     Config
	sources map[string]*Source
	log     *slog.Logger
	wg      sync.WaitGroup
	mu      sync.Mutex
	base    context.Context // background runs live as long as this
}

// New returns a Runner.
func New(cfg Config) *Runner {
	r := &Runner{cfg: cfg, sources: make(map[string]*Source), log: cfg.Logger, base: context.Background()}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.cfg.Now == nil {
		r.cfg.Now = time.Now
	}
	r.cfg.Tick = cmp.Or(r.cfg.Tick, 30*time.Second)
	for i := range cfg.Sources {
		s := cfg.Sources[i]
		r.sources[s.Name] = &s
	}
	return r
}

// Sources returns the names of the sources with reconciliation, sorted.
func (r *Runner) Sources() []string {
	var out []string
	for n := range r.sources {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func lockName(source string) string { return "reconcile/" + source }

// Run reconciles source over [since, until) now and returns the finished
// run; zero bounds default to the source's lookback window ending Settle
// before now. It fails with ErrBusy when a run of the source holds the cluster
// lock elsewhere.
func (r *Runner) Run(ctx context.Context, source string, since, until time.Time, trigger string) (Run, error) {
	src, run, unlock, err := r.begin(ctx, source, since, until, trigger)
	if err != nil {
		return Run{}, err
	}
	defer unlock()
	r.execute(ctx, src, run)
	return *run, nil
}

// Manual is the runner as the admin API uses it (api.Reconciler): the
// recorded runs, and Start as a manual trigger.
type Manual struct{ *Runner }

// ReconcileRunList lists recorded runs (store.Reconciles).
func (m Manual) ReconcileRunList(ctx context.Context, source string, limit int) ([]store.ReconcileRun, error) {
	return m.cfg.Store.ReconcileRunList(ctx, source, limit)
}

// ReconcileRunGet returns one recorded run (store.Reconciles).
func (m Manual) ReconcileRunGet(ctx context.Context, id string) (store.ReconcileRun, error) {
	return m.cfg.Store.ReconcileRunGet(ctx, id)
}

// Start begins a run triggered by an operator.
func (m Manual) Start(ctx context.Context, source string, since, until time.Time) (store.ReconcileRun, error) {
	return m.Runner.Start(ctx, source, since, until, TriggerManual)
}

// Start begins a run in the background and returns its first record at
// once (state running); poll the store for its progress.
func (r *Runner) Start(ctx context.Context, source string, since, until time.Time, trigger string) (Run, error) {
	src, run, unlock, err := r.begin(ctx, source, since, until, trigger)
	if err != nil {
		return Run{}, err
	}
	first := *run
	r.mu.Lock()
	base := r.base
	r.mu.Unlock()
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer unlock()
		r.execute(base, src, run)
	}()
	return first, nil
}

// Bind sets the context background runs (Start) live in; until it is
// called they live in context.Background. A server binds its lifetime
// before serving the admin API, so shutdown stops them at a checkpoint.
func (r *Runner) Bind(ctx context.Context) {
	r.mu.Lock()
	r.base = ctx
	r.mu.Unlock()
}

// Wait blocks until background runs end (after their context ends).
func (r *Runner) Wait() { r.wg.Wait() }

// begin takes the source's lock and records a new run.
func (r *Runner) begin(ctx context.Context, source string, since, until time.Time, trigger string) (*Source, *Run, func(), error) {
	src, ok := r.sources[source]
	if !ok {
		return nil, nil, nil, fmt.Errorf("%w: %q", ErrUnknownSource, source)
	}
	// Zero bounds mean the scheduled window: the lookback, ending Settle
	// before now.
	if until.IsZero() {
		until = r.cfg.Now().Add(-src.Settle)
	}
	if since.IsZero() {
		since = until.Add(-cmp.Or(src.Lookback, 6*time.Hour))
	}
	if !since.Before(until) {
		return nil, nil, nil, fmt.Errorf("%w: since %s is not before until %s", webhook.ErrInvalid,
			since.Format(time.RFC3339), until.Format(time.RFC3339))
	}
	unlock, ok, err := r.cfg.Locker.TryLock(ctx, lockName(source))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("reconcile lock: %w", err)
	}
	if !ok {
		return nil, nil, nil, ErrBusy
	}
	now := r.cfg.Now()
	run := &Run{ID: webhook.NewID("rec_", now), Source: source, Trigger: trigger, State: store.RunRunning,
		Since: since.UTC(), Until: until.UTC(), StartedAt: now}
	if err := r.cfg.Store.ReconcileRunSave(ctx, run); err != nil {
		unlock()
		return nil, nil, nil, err
	}
	return src, run, unlock, nil
}

// execute lists the provider page by page from run.Cursor, backfills the
// gaps and checkpoints the run after every page.
func (r *Runner) execute(ctx context.Context, src *Source, run *Run) {
	log := r.log.With("source", src.Name, "run", run.ID)
	log.Info("reconciliation started", "since", run.Since, "until", run.Until, "cursor_set", run.Cursor != "")
	received, err := r.bodyKeys(ctx, src, run)
	// checkpoint is the run as last saved. An interrupted run is saved as
	// it, not with the counts of the page it was in the middle of: the
	// next leader redoes that page, and would count it twice.
	checkpoint := *run
	seen := make(map[string]bool)
	ordered := src.Ordered && src.Backfill && !src.Redeliver
	var pending []*Item // an ordered run's gaps, stored once listing is complete
	for err == nil {
		var p Page
		p, err = src.Lister.List(ctx, run.Since, run.Until, run.Cursor)
		if err != nil {
			break
		}
		var gaps []*Item
		if gaps, err = r.compare(ctx, src, run, p.Items, received, seen); err != nil {
			break
		}
		if ordered {
			pending = append(pending, gaps...)
			if p.Next == "" {
				break
			}
			run.Cursor = p.Next // in memory only: see Source.Ordered
			continue
		}
		if err = r.handle(ctx, src, run, gaps, backfillConcurrency); err != nil {
			break
		}
		run.Cursor = p.Next
		if p.Next == "" {
			break
		}
		if err = r.cfg.Store.ReconcileRunSave(ctx, run); err != nil {
			break
		}
		checkpoint = *run
	}
	if err == nil && ordered {
		chronological(pending)
		if err = r.handle(ctx, src, run, pending, 1); err == nil {
			run.Cursor = ""
		}
	}
	switch {
	case err != nil && ctx.Err() != nil:
		// Shutting down: keep the run "running" at its last checkpoint, so
		// the next leader resumes it rather than starting over.
		*run = checkpoint
	case err != nil:
		run.State, run.FinishedAt, run.LastError = store.RunFailed, r.cfg.Now(), err.Error()
		run.Errors++
	default:
		run.State, run.FinishedAt = store.RunDone, r.cfg.Now()
	}
	// The final save must not be lost to a cancelled context: a run left
	// "running" would be resumed, which is safe but wasteful.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if serr := r.cfg.Store.ReconcileRunSave(sctx, run); serr != nil {
		log.Error("reconciliation run not recorded", "error", serr.Error())
	}
	if run.State == store.RunRunning {
		log.Info("reconciliation interrupted; it resumes from its checkpoint", "listed", run.Listed)
		return
	}
	if r.cfg.Observer != nil {
		r.cfg.Observer.Reconciled(run, src.Threshold)
	}
	log.Info("reconciliation finished", "state", run.State, "listed", run.Listed, "matched", run.Matched,
		"missing", run.Missing, "backfilled", run.Backfilled, "errors", run.Errors, "duration", run.Duration())
}

// compare counts one page against the received events and returns its gaps.
func (r *Runner) compare(ctx context.Context, src *Source, run *Run, items []Item, received, seen map[string]bool) ([]*Item, error) {
	var keys []string
	var todo []*Item
	for i := range items {
		it := &items[i]
		if seen[it.Key] { // a provider may list one event more than once (GitHub redeliveries)
			continue
		}
		seen[it.Key] = true
		todo = append(todo, it)
		keys = append(keys, it.Key)
		keys = append(keys, it.AltKeys...)
	}
	stored, err := r.cfg.Store.EventKeysStored(ctx, src.Name, keys)
	if err != nil {
		return nil, err
	}
	var gaps []*Item
	for _, it := range todo {
		run.Listed++
		if stored[it.Key] || received[it.Key] || anyOf(it.AltKeys, stored, received) {
			run.Matched++
			continue
		}
		run.Missing++
		gaps = append(gaps, it)
	}
	return gaps, nil
}

// chronological sorts gaps oldest first when every one carries its
// provider time (Stripe, GitHub); otherwise it keeps the listing order.
func chronological(gaps []*Item) {
	for _, it := range gaps {
		if it.At.IsZero() {
			return // listing order is the best information there is
		}
	}
	sort.SliceStable(gaps, func(i, j int) bool { return gaps[i].At.Before(gaps[j].At) })
}

// handle backfills (or asks to redeliver) gaps, at most conc at a time.
// Concurrent ingests share the store's group commit (one fsync for many)
// and provider fetches overlap; conc 1 stores them in order.
func (r *Runner) handle(ctx context.Context, src *Source, run *Run, gaps []*Item, conc int) error {
	if !src.Backfill && !src.Redeliver {
		return nil
	}
	type result struct {
		it          *Item
		dup         bool
		quarantined string
		err         error
	}
	results := make([]result, len(gaps))
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	for i, it := range gaps {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			dup, q, err := r.backfill(ctx, src, run.ID, it)
			results[i] = result{it, dup, q, err}
		}()
	}
	wg.Wait()
	var fatal error
	for _, res := range results {
		switch {
		case res.err != nil:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(res.err, webhook.ErrUnavailable) {
				fatal = res.err
				continue
			}
			run.Errors++
			run.LastError = fmt.Sprintf("%s: %v", res.it.Key, res.err)
		case res.quarantined != "": // failed ingest validation: kept, not delivered
			run.Quarantined++
			run.LastError = fmt.Sprintf("%s: quarantined: %s", res.it.Key, res.quarantined)
		case res.dup: // the real webhook arrived while the run was listing
			run.Missing--
			run.Matched++
		default:
			run.Backfilled++
		}
	}
	return fatal
}

// backfillConcurrency bounds the backfills of one page in flight.
const backfillConcurrency = 8

func anyOf(keys []string, sets ...map[string]bool) bool {
	for _, k := range keys {
		for _, s := range sets {
			if s[k] {
				return true
			}
		}
	}
	return false
}

// backfill stores a synthetic event for it (or asks the provider to
// redeliver it); dup reports that the event was already stored,
// quarantined the reason it failed ingest validation (it was quarantined,
// not stored).
func (r *Runner) backfill(ctx context.Context, src *Source, runID string, it *Item) (dup bool, quarantined string, err error) {
	if src.Redeliver {
		rd, ok := src.Lister.(Redeliverer)
		if !ok {
			return false, "", fmt.Errorf("provider %s cannot redeliver", src.Provider)
		}
		return false, "", rd.Redeliver(ctx, it)
	}
	if it.Body == nil {
		f, ok := src.Lister.(Fetcher)
		if !ok {
			return false, "", fmt.Errorf("listing carries no payload")
		}
		if err := f.Fetch(ctx, it); err != nil {
			return false, "", err
		}
	}
	now := r.cfg.Now()
	h := it.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set(OriginHeader, OriginValue)
	h.Set(RunHeader, runID)
	ev := &webhook.Event{ID: webhook.NewID("evt_", now), Source: src.Name, Provider: src.Provider, Topic: it.Topic,
		DedupKey: it.Key, ReceivedAt: now, Headers: h, Body: it.Body}
	if r.cfg.Gate != nil {
		reason, err := r.cfg.Gate.Admit(ctx, ev)
		if err != nil || reason != "" {
			return false, reason, err
		}
	}
	ds := r.cfg.Router.Deliveries(ctx, ev)
	res, err := r.cfg.Store.Ingest(ctx, ev, ds)
	if err != nil {
		return false, "", err
	}
	if !res.Duplicate && r.cfg.Waker != nil {
		for _, d := range ds {
			r.cfg.Waker.Wake(d.Destination)
		}
	}
	return res.Duplicate, "", nil
}

// bodyKeys collects the match keys of the events the source received
// since the window began, for providers matched by body (BodyKeyer).
func (r *Runner) bodyKeys(ctx context.Context, src *Source, run *Run) (map[string]bool, error) {
	bk, ok := src.Lister.(BodyKeyer)
	if !ok {
		return nil, nil
	}
	out := make(map[string]bool)
	f := store.EventFilter{Source: src.Name, Since: run.Since, Limit: 1000}
	for {
		evs, next, err := r.cfg.Store.EventList(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, e := range evs {
			full, err := r.cfg.Store.EventGet(ctx, e.ID)
			if err != nil {
				return nil, err
			}
			for _, k := range bk.BodyKeys(full.Topic, full.Body) {
				out[k] = true
			}
		}
		if next == "" {
			return out, nil
		}
		f.Cursor = next
	}
}

// Schedule runs due reconciliations until ctx ends: on every tick, if this
// node leads, each source whose last run started at least Every ago runs
// over [now-Lookback, now), and a run a crash left unfinished is resumed
// from its checkpoint first.
func (r *Runner) Schedule(ctx context.Context) {
	t := time.NewTicker(r.cfg.Tick)
	defer t.Stop()
	for {
		r.Tick(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Tick does one round of scheduling (for Schedule and tests).
func (r *Runner) Tick(ctx context.Context) {
	if r.cfg.Elector != nil && !r.cfg.Elector.IsLeader() {
		return
	}
	// Sources run side by side, so one slow provider does not hold back
	// the others' schedules.
	var wg sync.WaitGroup
	for _, name := range r.Sources() {
		src := r.sources[name]
		if src.Every <= 0 || ctx.Err() != nil {
			continue
		}
		wg.Go(func() {
			if err := r.tickSource(ctx, src); err != nil && !errors.Is(err, ErrBusy) {
				r.log.Warn("reconciliation not run", "source", name, "error", err.Error())
			}
		})
	}
	wg.Wait()
}

func (r *Runner) tickSource(ctx context.Context, src *Source) error {
	unlock, ok, err := r.cfg.Locker.TryLock(ctx, lockName(src.Name))
	if err != nil {
		return err
	}
	if !ok {
		return ErrBusy // running here or on another node
	}
	// Holding the lock, a run still marked running is one whose node died.
	if run, ok, err := r.cfg.Store.ReconcileRunUnfinished(ctx, src.Name); err != nil {
		unlock()
		return err
	} else if ok {
		r.log.Info("resuming interrupted reconciliation", "source", src.Name, "run", run.ID)
		r.execute(ctx, src, &run)
		unlock()
		return nil
	}
	last, err := r.cfg.Store.ReconcileRunList(ctx, src.Name, 1)
	if err != nil {
		unlock()
		return err
	}
	now := r.cfg.Now()
	if len(last) > 0 && now.Sub(last[0].StartedAt) < src.Every {
		unlock()
		return nil
	}
	unlock() // begin takes it again
	until := now.Add(-src.Settle)
	_, err = r.Run(ctx, src.Name, until.Add(-src.Lookback), until, TriggerSchedule)
	return err
}
