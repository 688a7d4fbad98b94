// Package ingest is hookyard's public receiver: POST /ingest/{source}. It
// bounds the body, verifies the provider's signature, derives the dedup key
// and topic, decides the deliveries, and answers 2xx only after the store has
// committed the event and its deliveries to disk.
//
// Nothing here parses more of the body than the ACK needs: full decoding is
// the worker's job, so the 2xx stays fast.
package ingest

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/hookyard/hookyard/internal/schema"
	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/tracing"
	"github.com/hookyard/hookyard/internal/verify"
	"github.com/hookyard/hookyard/internal/webhook"
)

// Store is what ingest needs of the store.
type Store interface {
	Ingest(ctx context.Context, ev *webhook.Event, ds []webhook.NewDelivery) (store.IngestResult, error)
	Quarantine(ctx context.Context, ev *webhook.Event, reason string) error
}

// Router decides an event's deliveries (one per matching route).
type Router interface {
	Deliveries(ctx context.Context, ev *webhook.Event) []webhook.NewDelivery
}

// Waker is told which destinations have new work, after commit.
type Waker interface {
	Wake(destination string)
}

// Observer is told the outcome of every request (metrics); optional.
type Observer interface {
	Ingested(source, outcome string, took time.Duration, secretIndex int, topic string)
}

// Outcomes reported to the Observer.
const (
	OutcomeAccepted    = "accepted"
	OutcomeDuplicate   = "duplicate"
	OutcomeSignature   = "signature"
	OutcomeIP          = "ip"
	OutcomeRateLimited = "rate_limited"
	OutcomeTooLarge    = "too_large"
	OutcomeSchema      = "schema"
	OutcomeInvalid     = "invalid"
	OutcomeUnavailable = "unavailable"
	OutcomeBusy        = "busy"
	OutcomeHandshake   = "handshake"
	OutcomeUnknown     = "unknown_source"
)

// Source is one configured ingest endpoint.
type Source struct {
	Name     string
	Provider string
	Verifier verify.Verifier
	// JSON rejects bodies that are not JSON (the provider always sends JSON).
	JSON bool
	// URL is the externally visible URL, for URL-bound signature schemes.
	URL string
	// IP restricts client addresses; nil accepts any.
	IP *IPPolicy
	// Limiter caps this source's request rate; nil means no limit.
	Limiter *Limiter
	// Schemas validate bodies by topic; the key "*" applies to every topic
	// without its own schema. A violation is quarantined and answered 422.
	Schemas map[string]*schema.Schema
}

// Config wires a Handler. Sources and Store are required.
type Config struct {
	Sources      []Source
	Store        Store
	Router       Router // required
	Waker        Waker  // optional
	MaxBodyBytes int64  // default 1 MiB
	// MaxJSONDepth bounds object/array nesting, checked before anything
	// parses the body; default 64.
	MaxJSONDepth int
	// MaxInFlight bounds concurrent ingest requests; beyond it the answer is
	// 503 with Retry-After. Default 1024.
	MaxInFlight int
	Logger      *slog.Logger
	Now         func() time.Time
	Observer    Observer // optional
	// Tracer starts a span per request (the root of its event's trace);
	// nil is off.
	Tracer *tracing.Tracer
}

// Handler serves POST /ingest/{source}.
type Handler struct {
	sources map[string]*Source
	store   Store
	router  Router
	waker   Waker
	max     int64
	depth   int
	slots   chan struct{}
	log     *slog.Logger
	now     func() time.Time
	obs     Observer
	tracer  *tracing.Tracer
}

// New returns a Handler.
func New(cfg Config) *Handler {
	h := &Handler{
		sources: make(map[string]*Source, len(cfg.Sources)),
		store:   cfg.Store,
		router:  cfg.Router,
		waker:   cfg.Waker,
		max:     cfg.MaxBodyBytes,
		log:     cfg.Logger,
		now:     cfg.Now,
		obs:     cfg.Observer,
		tracer:  cfg.Tracer,
	}
	if h.max <= 0 {
		h.max = 1 << 20
	}
	h.depth = cmp.Or(max(cfg.MaxJSONDepth, 0), 64)
	h.slots = make(chan struct{}, cmp.Or(max(cfg.MaxInFlight, 0), 1024))
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	for i := range cfg.Sources {
		s := cfg.Sources[i]
		h.sources[s.Name] = &s
	}
	return h
}

// Response is the body of a 2xx answer.
type Response struct {
	ID        string `json:"id"`
	Duplicate bool   `json:"duplicate"`
}

// ServeHTTP handles one inbound webhook. Register it for
// "POST /ingest/{source}".
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := h.now()
	name := r.PathValue("source")
	src, ok := h.sources[name]
	// The label is the configured name, never a caller-chosen path segment.
	label, outcome, secret, topic := name, OutcomeInvalid, -1, ""
	if h.obs != nil {
		defer func() { h.obs.Ingested(label, outcome, h.now().Sub(start), secret, topic) }()
	}
	if !ok {
		label, outcome = "", OutcomeUnknown
		problem(w, http.StatusNotFound, "Unknown source",
			fmt.Sprintf("no source named %q is configured; POST to /ingest/{source} with a configured source name", name))
		return
	}
	// The event id is chosen now, so the request's span is the root of the
	// trace the event's delivery attempts join (see package tracing).
	eventID := webhook.NewID("evt_", start)
	if h.tracer != nil {
		ctx, span := h.tracer.Ingest(r.Context(), eventID, src.Name, src.Provider)
		r = r.WithContext(ctx)
		defer func() {
			span.SetAttributes(tracing.AttrOutcome.String(outcome))
			if topic != "" {
				span.SetAttributes(tracing.AttrTopic.String(topic))
			}
			if outcome == OutcomeUnavailable {
				tracing.Fail(span, "store")
			}
			span.End()
		}()
	}
	select {
	case h.slots <- struct{}{}:
		defer func() { <-h.slots }()
	default:
		outcome = OutcomeBusy
		w.Header().Set("Retry-After", "1")
		problem(w, http.StatusServiceUnavailable, "Too many requests in flight",
			"hookyard is at its limit of concurrent ingest requests; retry shortly")
		return
	}
	if src.IP != nil {
		if addr, ok := src.IP.allowed(r); !ok {
			outcome = OutcomeIP
			h.log.Info("client address not allowed", "source", src.Name, "client", addr.String())
			problem(w, http.StatusForbidden, "Client address not allowed",
				fmt.Sprintf("source %q does not accept requests from %s", src.Name, addr))
			return
		}
	}
	now := h.now()
	if src.Limiter != nil {
		if ok, wait := src.Limiter.Allow(now); !ok {
			outcome = OutcomeRateLimited
			w.Header().Set("Retry-After", strconv.Itoa(int(max(1, (wait+time.Second-1)/time.Second))))
			problem(w, http.StatusTooManyRequests, "Rate limit exceeded",
				fmt.Sprintf("source %q is over its request rate limit; retry after the Retry-After delay", src.Name))
			return
		}
	}
	if multipart(r) {
		problem(w, http.StatusUnsupportedMediaType, "Multipart bodies are not accepted",
			"send the webhook body as JSON or form-encoded, not multipart")
		return
	}
	body, err := readBody(w, r, h.max)
	if err == nil {
		body, err = decode(r, body, h.max)
	}
	if err != nil {
		switch {
		case errors.Is(err, webhook.ErrTooLarge):
			outcome = OutcomeTooLarge
			w.Header().Set("Connection", "close")
			problem(w, http.StatusRequestEntityTooLarge, "Body too large",
				fmt.Sprintf("the body exceeds this source's limit of %d bytes (after decompression)", h.max))
		case errors.Is(err, errUnsupportedEncoding):
			problem(w, http.StatusUnsupportedMediaType, "Unsupported Content-Encoding",
				"hookyard accepts identity or gzip request bodies")
		default:
			problem(w, http.StatusBadRequest, "Unreadable body", "the request body could not be read: "+err.Error())
		}
		return
	}
	res, err := src.Verifier.Verify(&verify.Request{Header: r.Header, Body: body, URL: src.URL, Now: now})
	if err != nil {
		outcome = OutcomeSignature
		h.log.Debug("signature rejected", "source", src.Name, "size", len(body), "error", err.Error())
		problem(w, http.StatusUnauthorized, "Signature verification failed", err.Error())
		return
	}
	secret = res.SecretIndex
	if hs := res.Handshake; hs != nil {
		outcome = OutcomeHandshake
		h.log.Debug("provider handshake answered", "source", src.Name)
		w.Header().Set("Content-Type", cmp.Or(hs.ContentType, "text/plain; charset=utf-8"))
		w.WriteHeader(cmp.Or(hs.Status, http.StatusOK))
		w.Write(hs.Body)
		return
	}
	ev := &webhook.Event{
		ID:         eventID,
		Source:     src.Name,
		Provider:   src.Provider,
		Topic:      res.Topic,
		DedupKey:   res.DeliveryID,
		ReceivedAt: now,
		Headers:    storedHeaders(r.Header),
		Body:       body,
	}
	if ev.DedupKey == "" { // hashed only when the provider sends no id
		ev.DedupKey = bodyKey(body)
	}
	if status, title, reason := h.validate(src, ev); status != 0 {
		outcome = OutcomeInvalid
		if status == http.StatusUnprocessableEntity {
			outcome = OutcomeSchema
		}
		h.quarantine(w, r, ev, status, title, reason)
		return
	}
	ds := h.router.Deliveries(r.Context(), ev)
	out, err := h.store.Ingest(r.Context(), ev, ds)
	if err != nil {
		outcome = OutcomeUnavailable
		h.log.Error("ingest not stored", "source", src.Name, "size", len(body), "error", err.Error())
		w.Header().Set("Retry-After", "5")
		problem(w, http.StatusServiceUnavailable, "Not stored",
			"the event could not be stored durably and was NOT accepted; retry later")
		return
	}
	if !out.Duplicate && h.waker != nil {
		for _, d := range ds {
			h.waker.Wake(d.Destination)
		}
	}
	if h.tracer != nil {
		span := trace.SpanFromContext(r.Context())
		span.SetAttributes(tracing.AttrEventID.String(out.EventID), tracing.AttrDuplicate.Bool(out.Duplicate),
			tracing.AttrDeliveries.Int(len(ds)), tracing.AttrBodySize.Int(len(body)))
	}
	status := http.StatusAccepted
	outcome, topic = OutcomeAccepted, ev.Topic
	if out.Duplicate {
		status, outcome = http.StatusOK, OutcomeDuplicate
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	var buf [96]byte
	b := append(buf[:0], `{"id":`...)
	b = strconv.AppendQuote(b, out.EventID)
	b = append(b, `,"duplicate":`...)
	b = strconv.AppendBool(b, out.Duplicate)
	b = append(b, "}\n"...)
	w.Write(b)
}

// validate checks an authentic body: JSON where the provider sends JSON,
// nesting depth, and the topic's schema. It returns the status to answer
// and the reason, or 0 when the body is acceptable.
func (h *Handler) validate(src *Source, ev *webhook.Event) (status int, title, reason string) {
	if !src.JSON {
		return 0, "", ""
	}
	if !webhook.JSONDepthOK(ev.Body, h.depth) {
		return http.StatusBadRequest, "JSON nested too deeply",
			fmt.Sprintf("the body nests objects or arrays more than %d levels deep", h.depth)
	}
	if !json.Valid(ev.Body) {
		return http.StatusBadRequest, "Body is not JSON",
			fmt.Sprintf("provider %s sends JSON bodies, but this body is not valid JSON", src.Provider)
	}
	sc := src.Schemas[ev.Topic]
	if sc == nil {
		sc = src.Schemas["*"]
	}
	if sc != nil {
		if err := sc.Validate(ev.Body); err != nil {
			return http.StatusUnprocessableEntity, "Schema violation", err.Error()
		}
	}
	return 0, "", ""
}

// Admit applies to an event built elsewhere (a reconciliation backfill) the
// checks a webhook of its source passes after its signature: JSON, nesting
// depth and the topic's schema. An event that fails is quarantined with the
// reason, which Admit returns; "" means the event may be stored. An error
// means it could not be quarantined and must not be stored either.
func (h *Handler) Admit(ctx context.Context, ev *webhook.Event) (reason string, err error) {
	src, ok := h.sources[ev.Source]
	if !ok {
		return "", fmt.Errorf("no source named %q is configured", ev.Source)
	}
	status, title, detail := h.validate(src, ev)
	if status == 0 {
		return "", nil
	}
	reason = title + ": " + detail
	if err := h.keep(ctx, ev, title, detail); err != nil {
		return "", fmt.Errorf("quarantine: %w", err)
	}
	return reason, nil
}

// keep stores an event that failed validation in the quarantine, under a
// quarantine id, with the reason.
func (h *Handler) keep(ctx context.Context, ev *webhook.Event, title, detail string) error {
	ev.ID = webhook.NewID("qtn_", ev.ReceivedAt)
	if err := h.store.Quarantine(ctx, ev, title+": "+detail); err != nil {
		return err
	}
	h.log.Info("request quarantined", "source", ev.Source, "quarantine_id", ev.ID, "reason", title)
	return nil
}

// bodyKey is the dedup key of a provider that sends no delivery id.
func bodyKey(body []byte) string {
	sum := sha256.Sum256(body)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// quarantine stores an authentic-but-invalid request durably, then answers
// the validation failure. If it cannot be stored the answer is 503, so the
// provider retries and nothing authentic is lost.
func (h *Handler) quarantine(w http.ResponseWriter, r *http.Request, ev *webhook.Event, status int, title, reason string) {
	if err := h.keep(r.Context(), ev, title, reason); err != nil {
		h.log.Error("quarantine not stored", "source", ev.Source, "size", len(ev.Body), "error", err.Error())
		w.Header().Set("Retry-After", "5")
		problem(w, http.StatusServiceUnavailable, "Not stored",
			"the request failed validation and could not be quarantined; retry later")
		return
	}
	problem(w, status, title, reason+" (kept in quarantine as "+ev.ID+")")
}

// readBody reads at most max bytes; a declared or actual larger body is
// ErrTooLarge before more than max+1 bytes are buffered.
func readBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, error) {
	if r.ContentLength > max {
		return nil, webhook.ErrTooLarge
	}
	rd := http.MaxBytesReader(w, r.Body, max)
	var body []byte
	if r.ContentLength >= 0 {
		body = make([]byte, r.ContentLength)
		if _, err := io.ReadFull(rd, body); err != nil {
			return nil, err
		}
		return body, nil
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(rd); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, webhook.ErrTooLarge
		}
		return nil, err
	}
	return buf.Bytes(), nil
}

// dropHeaders are not stored: hop-by-hop headers, credentials that are
// not part of any provider's signature evidence, and hookyard's own marks.
var dropHeaders = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true, "Te": true, "Trailer": true,
	"Transfer-Encoding": true, "Upgrade": true, "Authorization": true, "Proxy-Authorization": true,
	"Cookie": true,
	// Set only by reconciliation on the events it backfills; a sender
	// cannot claim them.
	"Hookyard-Origin": true, "Hookyard-Reconcile-Run": true,
}

func storedHeaders(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, v := range h {
		if !dropHeaders[k] {
			out[k] = v
		}
	}
	return out
}

// problem writes an RFC 9457 problem+json answer.
func problem(w http.ResponseWriter, status int, title, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(struct {
		Type   string `json:"type"`
		Title  string `json:"title"`
		Status int    `json:"status"`
		Detail string `json:"detail"`
	}{"about:blank", title, status, detail})
}
