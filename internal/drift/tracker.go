package drift

import (
	"cmp"
	"context"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"
)

// Observer is told what the tracker sees, for metrics; optional.
type Observer interface {
	// DriftPaths is the number of drifting paths of a stream by kind
	// (KindNew, KindMissing, KindTypeChanged), set after each flush.
	DriftPaths(source, topic, kind string, n int)
	// DriftDropped counts events not tracked: the queue was full, or the
	// body was not JSON.
	DriftDropped(source, reason string)
}

// Config configures a Tracker. Store is required.
type Config struct {
	Store store.Drift
	// BaselineAfter is how many events of a stream are learned before its
	// baseline freezes by itself; 0 freezes only on command.
	BaselineAfter int
	// MaxPaths bounds the (path, type) pairs tracked per stream; default
	// 2000. Pairs beyond it are not recorded.
	MaxPaths int
	// FlushEvery is how often counts go to the store; default 5s.
	FlushEvery time.Duration
	// Queue is how many accepted events may wait to be shaped; default 4096.
	Queue int
	// MaxTopics bounds the topics tracked per source (and so the metric's
	// labels); default 100. Events of further topics are dropped.
	MaxTopics int
	Observer  Observer
	Logger    *slog.Logger
	Now       func() time.Time
}

// Tracker learns and compares the shapes of event bodies.
type Tracker struct {
	cfg   Config
	queue chan item

	mu      sync.Mutex // guards pending and streams
	pending map[streamKey]*batch
	streams map[streamKey]*known
}

type streamKey struct{ source, topic string }

type item struct {
	source, topic, id string
	body              []byte
}

// batch is what a stream gathered since the last flush.
type batch struct {
	events int64
	counts map[Pair]*store.DriftCount // Type "" holds a path's missing count
}

// known is what the store last said about a stream.
type known struct {
	pairs    map[Pair]bool
	required []string // baseline paths every baseline event had; nil while learning
	frozen   bool
}

// New returns a Tracker; start it with Run.
func New(cfg Config) *Tracker {
	cfg.MaxPaths = cmp.Or(cfg.MaxPaths, 2000)
	cfg.FlushEvery = cmp.Or(cfg.FlushEvery, 5*time.Second)
	cfg.Queue = cmp.Or(cfg.Queue, 4096)
	cfg.MaxTopics = cmp.Or(cfg.MaxTopics, 100)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Tracker{cfg: cfg, queue: make(chan item, cfg.Queue),
		pending: map[streamKey]*batch{}, streams: map[streamKey]*known{}}
}

// Observe queues an accepted event. It never blocks: when the queue is
// full the event is not tracked (counted by the Observer).
func (t *Tracker) Observe(ev *webhook.Event) {
	select {
	case t.queue <- item{source: ev.Source, topic: ev.Topic, id: ev.ID, body: ev.Body}:
	default:
		if t.cfg.Observer != nil {
			t.cfg.Observer.DriftDropped(ev.Source, "queue_full")
		}
	}
}

// Run shapes queued events and flushes their counts every FlushEvery,
// until ctx ends; then it shapes what is queued, flushes once more (with a
// short deadline of its own) and returns.
func (t *Tracker) Run(ctx context.Context) {
	tick := time.NewTicker(t.cfg.FlushEvery)
	defer tick.Stop()
	for {
		select {
		case it := <-t.queue:
			t.shape(ctx, it)
		case <-tick.C:
			t.flush(ctx)
		case <-ctx.Done():
			for {
				select {
				case it := <-t.queue:
					t.shape(ctx, it)
					continue
				default:
				}
				break
			}
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			t.flush(fctx)
			cancel()
			return
		}
	}
}

// shape adds one event to its stream's pending batch.
func (t *Tracker) shape(ctx context.Context, it item) {
	pairs, _, err := Shape(it.body, t.cfg.MaxPaths)
	if err != nil {
		if t.cfg.Observer != nil {
			t.cfg.Observer.DriftDropped(it.source, "not_json")
		}
		return
	}
	k := streamKey{it.source, it.topic}
	kn := t.known(ctx, k)
	if kn == nil {
		if t.cfg.Observer != nil {
			t.cfg.Observer.DriftDropped(it.source, "too_many_topics")
		}
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.pending[k]
	if b == nil {
		b = &batch{counts: map[Pair]*store.DriftCount{}}
		t.pending[k] = b
	}
	b.events++
	present := make(map[string]bool, len(pairs))
	for _, p := range pairs {
		present[p.Path] = true
		c := b.counts[p]
		if c == nil {
			if !kn.pairs[p] && len(kn.pairs)+len(b.counts) >= t.cfg.MaxPaths {
				continue // the stream tracks as many paths as it may
			}
			c = &store.DriftCount{Path: p.Path, Type: p.Type, Example: it.id}
			b.counts[p] = c
		}
		c.Seen++
	}
	for _, path := range kn.required {
		if present[path] {
			continue
		}
		mk := Pair{path, ""}
		c := b.counts[mk]
		if c == nil {
			c = &store.DriftCount{Path: path, MissingExample: it.id}
			b.counts[mk] = c
		}
		c.Missing++
	}
}

// known returns what the store said about k, asking it the first time;
// nil when k's source already has MaxTopics streams.
func (t *Tracker) known(ctx context.Context, k streamKey) *known {
	t.mu.Lock()
	kn := t.streams[k]
	topics := 0
	if kn == nil {
		for o := range t.streams {
			if o.source == k.source {
				topics++
			}
		}
	}
	t.mu.Unlock()
	if kn != nil {
		return kn
	}
	if topics >= t.cfg.MaxTopics {
		return nil
	}
	kn, err := t.load(ctx, k)
	if err != nil {
		t.cfg.Logger.Warn("schema drift: reading a stream failed", "source", k.source, "error", err.Error())
		kn = &known{pairs: map[Pair]bool{}}
	}
	t.mu.Lock()
	t.streams[k] = kn
	t.mu.Unlock()
	return kn
}

func (t *Tracker) load(ctx context.Context, k streamKey) (*known, error) {
	rep, err := t.Report(ctx, k.source, k.topic)
	if err != nil {
		return nil, err
	}
	kn := &known{pairs: map[Pair]bool{}, frozen: rep.Frozen}
	for _, p := range rep.rows {
		if p.Type != "" {
			kn.pairs[Pair{p.Path, p.Type}] = true
		}
	}
	if rep.Frozen {
		kn.required = rep.required
	}
	return kn, nil
}

// Flush writes pending counts now (Freeze and tests use it).
func (t *Tracker) Flush(ctx context.Context) error { return t.flush(ctx) }

// flush writes every pending batch, freezes streams that reached
// BaselineAfter, refreshes what is known of them and updates the metrics.
// A batch that cannot be written is kept for the next flush.
func (t *Tracker) flush(ctx context.Context) error {
	t.mu.Lock()
	pending := t.pending
	t.pending = map[streamKey]*batch{}
	t.mu.Unlock()
	keys := slices.SortedFunc(maps.Keys(pending), func(a, b streamKey) int {
		return cmp.Or(cmp.Compare(a.source, b.source), cmp.Compare(a.topic, b.topic))
	})
	var firstErr error
	for _, k := range keys {
		b := pending[k]
		db := store.DriftBatch{Source: k.source, Topic: k.topic, Events: b.events}
		for _, c := range b.counts {
			db.Paths = append(db.Paths, *c)
		}
		// One order for every node's batches: rows lock in the same order.
		slices.SortFunc(db.Paths, func(x, y store.DriftCount) int {
			return cmp.Or(cmp.Compare(x.Path, y.Path), cmp.Compare(x.Type, y.Type))
		})
		if err := t.cfg.Store.DriftRecord(ctx, db); err != nil {
			t.cfg.Logger.Warn("schema drift: recording failed; kept for the next flush", "source", k.source, "error", err.Error())
			t.requeue(k, b)
			firstErr = cmp.Or(firstErr, err)
			continue
		}
		if t.cfg.BaselineAfter > 0 {
			if _, err := t.cfg.Store.DriftFreeze(ctx, k.source, k.topic, int64(t.cfg.BaselineAfter), t.cfg.Now()); err != nil {
				firstErr = cmp.Or(firstErr, err)
			}
		}
		t.refresh(ctx, k)
	}
	return firstErr
}

// requeue puts a batch that could not be written back in front of what
// arrived since.
func (t *Tracker) requeue(k streamKey, b *batch) {
	t.mu.Lock()
	defer t.mu.Unlock()
	cur := t.pending[k]
	if cur == nil {
		t.pending[k] = b
		return
	}
	cur.events += b.events
	for p, c := range b.counts {
		if d := cur.counts[p]; d != nil {
			d.Seen += c.Seen
			d.Missing += c.Missing
			d.Example = cmp.Or(c.Example, d.Example)
			d.MissingExample = cmp.Or(c.MissingExample, d.MissingExample)
		} else {
			cur.counts[p] = c
		}
	}
}

// refresh rereads a stream (other nodes add to it, and it may have
// frozen) and sets its metrics.
func (t *Tracker) refresh(ctx context.Context, k streamKey) {
	rep, err := t.Report(ctx, k.source, k.topic)
	if err != nil {
		t.cfg.Logger.Warn("schema drift: reading a stream failed", "source", k.source, "error", err.Error())
		return
	}
	kn := &known{pairs: map[Pair]bool{}, frozen: rep.Frozen}
	for _, p := range rep.rows {
		if p.Type != "" {
			kn.pairs[Pair{p.Path, p.Type}] = true
		}
	}
	if rep.Frozen {
		kn.required = rep.required
	}
	t.mu.Lock()
	t.streams[k] = kn
	t.mu.Unlock()
	t.observe(rep)
}

func (t *Tracker) observe(rep Report) {
	if t.cfg.Observer == nil {
		return
	}
	n := map[string]int{}
	for _, c := range rep.Changes {
		n[c.Kind]++
	}
	for _, kind := range []string{KindNew, KindMissing, KindTypeChanged} {
		t.cfg.Observer.DriftPaths(rep.Source, rep.Topic, kind, n[kind])
	}
}

// Freeze writes pending counts, then makes everything seen so far the
// baseline of (source, topic). It reports whether the stream exists.
func (t *Tracker) Freeze(ctx context.Context, source, topic string) (bool, error) {
	if err := t.flush(ctx); err != nil {
		return false, err
	}
	ok, err := t.cfg.Store.DriftFreeze(ctx, source, topic, 0, t.cfg.Now())
	if err != nil || !ok {
		return ok, err
	}
	t.refresh(ctx, streamKey{source, topic})
	return true, nil
}

// InitMetrics sets the drift metrics of every stream from the store, so a
// node that just started reports them before its first flush.
func (t *Tracker) InitMetrics(ctx context.Context) error {
	reps, err := t.Reports(ctx, "", "")
	for _, r := range reps {
		t.observe(r)
	}
	return err
}
