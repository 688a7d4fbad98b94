package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hookyard/hookyard/internal/deliver"
	"github.com/hookyard/hookyard/internal/dest"
	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/tracing"
	"github.com/hookyard/hookyard/internal/webhook"
)

// Queue stores notifications durably (store.Store satisfies it).
type Queue interface {
	Ingest(ctx context.Context, ev *webhook.Event, ds []webhook.NewDelivery) (store.IngestResult, error)
}

// Durable notifications are ordinary events and deliveries: an event of
// source Source (topic alert.firing or alert.resolved, the incident as
// JSON) with one delivery per notifier to destination DestinationPrefix +
// the notifier's name, delivered by the delivery engine with the retry
// policy Config.Retry. They survive restarts, show in the event list and
// the dead-letter queue (and can be replayed from it), and any node of a
// cluster delivers them. Both names contain a colon, which configured
// source and destination names cannot.
const (
	Source            = "hookyard:alerts"
	DestinationPrefix = "alert:"
	// Route is the route name of notification deliveries.
	Route = "alert"
)

// IsInternal reports whether destination is a notifier's durable queue
// (alert rules ignore those: a failing notifier cannot page about itself).
func IsInternal(destination string) bool { return strings.HasPrefix(destination, DestinationPrefix) }

// record is the stored form of a notification: the incident without its
// notifier-specific runbook link.
type record struct {
	Key          string    `json:"key"`
	Rule         string    `json:"rule"`
	Severity     string    `json:"severity"`
	Subject      string    `json:"subject"`
	Summary      string    `json:"summary"`
	Facts        []Fact    `json:"facts,omitempty"`
	ErrorSamples []string  `json:"error_samples,omitempty"`
	Runbook      string    `json:"runbook"`
	State        string    `json:"state"`
	StartedAt    time.Time `json:"started_at"`
	ResolvedAt   time.Time `json:"resolved_at,omitzero"`
}

// Destinations are the delivery engine's destinations for durable
// notifications, one per notifier; nil unless Config.Queue is set. now is
// the sending clock (the delivery engine's; nil is time.Now), which may
// differ from the evaluation clock Config.Now.
func (e *Engine) Destinations(now func() time.Time) []deliver.Destination {
	if e.cfg.Queue == nil {
		return nil
	}
	if now == nil {
		now = time.Now
	}
	var out []deliver.Destination
	for _, ob := range e.outboxes {
		out = append(out, deliver.Destination{Name: DestinationPrefix + ob.name, Sender: notifier{ob: ob, now: now},
			Policy: e.cfg.Retry, Concurrency: 2, Timeout: smtpTimeout})
	}
	return out
}

// store writes the notifications queued under e.mu; those that fail stay
// queued, in order, for the next call. It must not hold e.mu.
func (e *Engine) store(ctx context.Context) error {
	e.storeMu.Lock()
	defer e.storeMu.Unlock()
	for {
		e.mu.Lock()
		if len(e.unstored) == 0 {
			e.mu.Unlock()
			return nil
		}
		in := e.unstored[0]
		e.mu.Unlock()
		if err := e.storeOne(ctx, in); err != nil {
			e.log.Error("alert notification not stored; will retry", "alert", in.Key, "state", in.State, "error", err.Error())
			return err
		}
		e.mu.Lock()
		e.unstored = e.unstored[1:]
		e.mu.Unlock()
	}
}

func (e *Engine) storeOne(ctx context.Context, in Incident) error {
	body, err := json.Marshal(record{Key: in.Key, Rule: in.Rule, Severity: in.Severity, Subject: in.Subject,
		Summary: in.Summary, Facts: in.Facts, ErrorSamples: in.ErrorSamples, Runbook: in.Runbook, State: in.State,
		StartedAt: in.StartedAt.UTC(), ResolvedAt: in.ResolvedAt.UTC()})
	if err != nil {
		return err
	}
	now := e.cfg.Now()
	ev := &webhook.Event{ID: webhook.NewID("evt_", now), Source: Source, Provider: "hookyard",
		Topic: "alert." + in.State,
		// One notification per incident and state, however often it is
		// stored (a retried write, two nodes during a leader change).
		DedupKey:   in.Key + "/" + in.State + "/" + strconv.FormatInt(in.StartedAt.UnixNano(), 10),
		ReceivedAt: now, Headers: http.Header{"Content-Type": {"application/json"}}, Body: body}
	var ds []webhook.NewDelivery
	for _, ob := range e.outboxes {
		// The incident key orders its messages: resolved never overtakes
		// firing, even across retries.
		ds = append(ds, webhook.NewDelivery{Destination: DestinationPrefix + ob.name, Route: Route,
			Priority: webhook.PriorityHigh, OrderingKey: in.Key, MaxAttempts: e.cfg.Retry.MaxAttempts})
	}
	ctx, span := e.cfg.Tracer.Ingest(ctx, ev.ID, Source, ev.Provider)
	res, err := e.cfg.Queue.Ingest(ctx, ev, ds)
	span.SetAttributes(tracing.AttrTopic.String(ev.Topic), tracing.AttrEventID.String(res.EventID),
		tracing.AttrDuplicate.Bool(res.Duplicate), tracing.AttrDeliveries.Int(len(ds)))
	if err != nil {
		tracing.Fail(span, "store")
		span.End()
		return err
	}
	span.End()
	if !res.Duplicate && e.cfg.Wake != nil {
		for _, d := range ds {
			e.cfg.Wake(d.Destination)
		}
	}
	return nil
}

// notifier sends a stored notification through one notifier; it is the
// Sender of that notifier's durable destination.
type notifier struct {
	ob  *outbox
	now func() time.Time
}

func (n notifier) Send(ctx context.Context, m *dest.Message) dest.Response {
	var r record
	if err := json.Unmarshal(m.Event.Body, &r); err != nil {
		return dest.Response{Err: deliver.Permanent(fmt.Errorf("alert notification: %w", err))}
	}
	in := Incident{Key: r.Key, Rule: r.Rule, Severity: r.Severity, Subject: r.Subject, Summary: r.Summary,
		Facts: r.Facts, ErrorSamples: r.ErrorSamples, Runbook: r.Runbook, RunbookURL: runbookURL(n.ob.runbook, r.Runbook),
		State: r.State, StartedAt: r.StartedAt, ResolvedAt: r.ResolvedAt}
	if err := n.ob.send(ctx, &in, n.now()); err != nil {
		return dest.Response{Err: err}
	}
	return dest.Response{}
}
