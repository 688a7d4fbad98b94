// Package tracing gives hookyard's OpenTelemetry spans one shape: an ingest
// span per request, an attempt span per delivery attempt and a transform
// span per transform run, all in one trace per event.
//
// Events are linked without storing anything: an event's trace id and its
// ingest span id are derived from the event id (SHA-256), so the worker
// that attempts a delivery — on any node, days later, after restarts —
// starts its attempt span as a child of the ingest span it never saw.
// Every span also carries the event id as hookyard.event_id, and TraceID
// tells an operator which trace belongs to an event.
//
// Spans carry ids, names, sizes, counts, HTTP status codes and error
// classes only: never a body, a header value, a URL, a secret or an error
// message (which may quote a URL with a token or a body fragment).
//
// A nil *Tracer is valid and does nothing: tracing is off by default.
package tracing

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/hookyard/hookyard/internal/webhook"
)

// Span and attribute names; the README (Traces) lists them.
const (
	SpanIngest    = "hookyard.ingest"
	SpanAttempt   = "hookyard.attempt"
	SpanTransform = "hookyard.transform"

	AttrEventID     = attribute.Key("hookyard.event_id")
	AttrSource      = attribute.Key("hookyard.source")
	AttrProvider    = attribute.Key("hookyard.provider")
	AttrTopic       = attribute.Key("hookyard.topic")
	AttrOutcome     = attribute.Key("hookyard.outcome")
	AttrDuplicate   = attribute.Key("hookyard.duplicate")
	AttrDeliveries  = attribute.Key("hookyard.deliveries")
	AttrBodySize    = attribute.Key("hookyard.body_size")
	AttrDestination = attribute.Key("hookyard.destination")
	AttrRoute       = attribute.Key("hookyard.route")
	AttrDeliveryID  = attribute.Key("hookyard.delivery_id")
	AttrAttempt     = attribute.Key("hookyard.attempt")
	AttrPriority    = attribute.Key("hookyard.priority")
	AttrState       = attribute.Key("hookyard.state")
	AttrErrorClass  = attribute.Key("hookyard.error_class")
	AttrStatusCode  = attribute.Key("http.response.status_code")
	AttrPayloadSize = attribute.Key("hookyard.payload_size")
)

// ScopeName is the instrumentation scope of hookyard's spans.
const ScopeName = "github.com/hookyard/hookyard"

// Tracer starts hookyard's spans. The zero of *Tracer (nil) is off.
type Tracer struct {
	t trace.Tracer
}

// New returns a Tracer that starts spans on tp; nil tp returns nil (off).
// tp should be built with IDGenerator and Sampler so that event ids
// decide trace ids and sampling (Setup does that).
func New(tp trace.TracerProvider) *Tracer {
	if tp == nil {
		return nil
	}
	if _, ok := tp.(noop.TracerProvider); ok {
		return nil
	}
	return &Tracer{t: tp.Tracer(ScopeName)}
}

// eventKey carries the id of the event a new root span belongs to.
type eventKey struct{}

// eventParentKey marks a context whose remote parent was derived from an
// event id (not received from anyone), for Sampler.
type eventParentKey struct{}

// Ingest starts the span of one ingest request whose event, if it is
// stored, gets eventID: the span becomes the root of that event's trace.
// A caller's traceparent is not honoured: the public listener's callers
// are providers, and their trace ids would split an event's spans.
func (t *Tracer) Ingest(ctx context.Context, eventID, source, provider string) (context.Context, trace.Span) {
	if t == nil {
		return ctx, trace.SpanFromContext(context.Background())
	}
	ctx = context.WithValue(ctx, eventKey{}, eventID)
	return t.t.Start(ctx, SpanIngest, trace.WithSpanKind(trace.SpanKindServer), trace.WithNewRoot(),
		trace.WithAttributes(AttrSource.String(source), AttrProvider.String(provider)))
}

// Attempt starts the span of one delivery attempt, a child of the event's
// ingest span. The context it returns carries the span, so a destination
// sender propagates it as traceparent (an HTTP or message header).
func (t *Tracer) Attempt(ctx context.Context, ev *webhook.Event, d *webhook.Delivery, attempt int) (context.Context, trace.Span) {
	if t == nil {
		return ctx, trace.SpanFromContext(context.Background())
	}
	tid, sid := EventIDs(ev.ID)
	parent := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid,
		TraceFlags: trace.FlagsSampled, Remote: true})
	ctx = context.WithValue(trace.ContextWithRemoteSpanContext(ctx, parent), eventParentKey{}, true)
	return t.t.Start(ctx, SpanAttempt, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		AttrEventID.String(ev.ID), AttrSource.String(ev.Source), AttrTopic.String(ev.Topic),
		AttrDestination.String(d.Destination), AttrRoute.String(d.Route), AttrDeliveryID.String(d.ID),
		AttrAttempt.Int(attempt), AttrPriority.Int(d.Priority)))
}

// Transform starts the span of one transform run inside an attempt.
func (t *Tracer) Transform(ctx context.Context, d *webhook.Delivery) (context.Context, trace.Span) {
	if t == nil {
		return ctx, trace.SpanFromContext(context.Background())
	}
	return t.t.Start(ctx, SpanTransform, trace.WithAttributes(AttrRoute.String(d.Route),
		AttrDestination.String(d.Destination), AttrEventID.String(d.EventID)))
}

// Fail marks span as failed with an error class (never the message: it
// may quote a URL with a credential or part of a body).
func Fail(span trace.Span, class string) {
	if class == "" {
		class = "error"
	}
	span.SetAttributes(AttrErrorClass.String(class))
	span.SetStatus(codes.Error, class)
}

// EventIDs returns the trace id of an event's trace and the span id of its
// ingest span: the first 24 bytes of SHA-256("hookyard-trace\x00" + id).
func EventIDs(eventID string) (trace.TraceID, trace.SpanID) {
	sum := sha256.Sum256([]byte("hookyard-trace\x00" + eventID))
	var tid trace.TraceID
	var sid trace.SpanID
	copy(tid[:], sum[:16])
	copy(sid[:], sum[16:24])
	if !tid.IsValid() { // all zero: not in this universe, but stay valid
		tid[15] = 1
	}
	if !sid.IsValid() {
		sid[7] = 1
	}
	return tid, sid
}

// TraceID is the hex trace id of an event's trace, for finding it in a
// tracing backend.
func TraceID(eventID string) string {
	tid, _ := EventIDs(eventID)
	return tid.String()
}

// IDGenerator gives a root span started by Tracer.Ingest the ids derived
// from its event id, and random ids to every other span.
func IDGenerator() sdktrace.IDGenerator { return idGenerator{} }

type idGenerator struct{}

func (idGenerator) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	if id, ok := ctx.Value(eventKey{}).(string); ok && id != "" {
		return EventIDs(id)
	}
	var tid trace.TraceID
	binary.BigEndian.PutUint64(tid[:8], rand.Uint64())
	binary.BigEndian.PutUint64(tid[8:], rand.Uint64()|1)
	return tid, randomSpanID()
}

func (idGenerator) NewSpanID(context.Context, trace.TraceID) trace.SpanID { return randomSpanID() }

func randomSpanID() trace.SpanID {
	var sid trace.SpanID
	binary.BigEndian.PutUint64(sid[:], rand.Uint64()|1)
	return sid
}

// Sampler wraps base so that an attempt span, whose parent is derived
// from the event id rather than received, is sampled as the event's
// ingest span was: base decides as for a root span of the same trace id.
// With a trace-id ratio sampler an event's spans are kept or dropped
// together.
func Sampler(base sdktrace.Sampler) sdktrace.Sampler { return eventSampler{base} }

type eventSampler struct{ base sdktrace.Sampler }

func (s eventSampler) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	if p.ParentContext != nil {
		if derived, _ := p.ParentContext.Value(eventParentKey{}).(bool); derived {
			sc := trace.SpanContextFromContext(p.ParentContext)
			if sc.IsRemote() && sc.TraceID() == p.TraceID {
				p.ParentContext = trace.ContextWithSpanContext(p.ParentContext, trace.SpanContext{})
				r := s.base.ShouldSample(p)
				r.Tracestate = sc.TraceState()
				return r
			}
		}
	}
	return s.base.ShouldSample(p)
}

func (s eventSampler) Description() string { return "HookyardEvent{" + s.base.Description() + "}" }

// statusAttr is the attribute for an HTTP status, or none for 0.
func statusAttr(code int) []attribute.KeyValue {
	if code == 0 {
		return nil
	}
	return []attribute.KeyValue{AttrStatusCode.Int(code)}
}

// EndAttempt records an attempt's result on its span and ends it.
func EndAttempt(span trace.Span, state webhook.State, statusCode int, class string) {
	if !span.IsRecording() {
		span.End()
		return
	}
	span.SetAttributes(AttrState.String(string(state)))
	span.SetAttributes(statusAttr(statusCode)...)
	if class != "" {
		Fail(span, class)
	}
	span.End()
}
