package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hookyard/hookyard/internal/webhook"
)

// The JSON types below are the admin API's wire format, shared by the server
// and Client so the two cannot drift. Times are RFC 3339 (UTC); zero times
// are omitted.

// Body encodings, as reported in Event.BodyEncoding and
// Attempt.ResponseBodyEncoding.
const (
	EncodingJSON   = "json"   // the body is valid JSON, embedded as is (whitespace compacted)
	EncodingText   = "text"   // valid UTF-8 but not JSON, embedded as a JSON string
	EncodingBase64 = "base64" // not UTF-8, embedded as a standard base64 string
)

// Identity is who a token belongs to: GET /api/v1/whoami.
type Identity struct {
	Name string `json:"name"`
	Role string `json:"role"`
	// TokenID is set for a token created through the API (not for one from
	// the config file).
	TokenID string `json:"token_id,omitempty"`
}

// Event is a stored webhook. Lists carry the summary fields only; the
// detail view (GET /api/v1/events/{id}) adds the masked headers, the body
// and the deliveries with their attempts.
type Event struct {
	ID         string    `json:"id"`
	Source     string    `json:"source"`
	Provider   string    `json:"provider"`
	Topic      string    `json:"topic"`
	DedupKey   string    `json:"dedup_key"`
	ReceivedAt time.Time `json:"received_at"`
	// Headers are the request headers as received, with credentials and
	// signatures replaced by "***".
	Headers map[string][]string `json:"headers,omitempty"`
	// Body is the raw JSON body when BodyEncoding is "json", otherwise a JSON
	// string holding the text or base64; RawBody decodes either.
	Body         json.RawMessage `json:"body,omitempty"`
	BodyEncoding string          `json:"body_encoding,omitempty"`
	BodySize     int             `json:"body_size,omitempty"`
	// BodyMasked is set when PII paths were masked in Body for the
	// caller's role, or the body was withheld (Body absent) because it is
	// not JSON and so cannot be masked by path.
	BodyMasked bool `json:"body_masked,omitempty"`
	// TraceID is the hex id of the event's OpenTelemetry trace (event
	// detail only): derived from the event id, so it is known whether or
	// not tracing is on, and names spans only when it is.
	TraceID    string     `json:"trace_id,omitempty"`
	Deliveries []Delivery `json:"deliveries,omitempty"`
}

// RawBody returns the event body as bytes. A JSON body comes back compacted:
// equal as JSON to what was received, not necessarily byte for byte.
func (e *Event) RawBody() ([]byte, error) {
	return decodeBody(e.Body, e.BodyEncoding)
}

// Delivery is one (event, route → destination) unit of work.
type Delivery struct {
	ID          string `json:"id"`
	EventID     string `json:"event_id"`
	Destination string `json:"destination"`
	Route       string `json:"route"`
	State       string `json:"state"`
	Priority    int    `json:"priority"`
	OrderingKey string `json:"ordering_key,omitempty"`
	// Attempts is how many attempts the current budget has used (a replay
	// resets it); MaxAttempts is the budget.
	Attempts       int    `json:"attempts"`
	MaxAttempts    int    `json:"max_attempts"`
	IdempotencyKey string `json:"idempotency_key"`
	// NextAttemptAt is when a pending delivery is next due, or when an
	// in-flight delivery's lease expires; absent once terminal.
	NextAttemptAt  time.Time `json:"next_attempt_at,omitzero"`
	LeaseOwner     string    `json:"lease_owner,omitempty"`
	LastError      string    `json:"last_error,omitempty"`
	LastErrorClass string    `json:"last_error_class,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
	CompletedAt    time.Time `json:"completed_at,omitzero"`
	// History is the attempt records, oldest first, where a response includes
	// them (an event's deliveries).
	History []Attempt `json:"history,omitempty"`
}

// DeliveryDetail is GET /api/v1/deliveries/{id}: a delivery with its attempt
// records. On the wire it is a Delivery whose "history" is always present;
// in Go the records are Attempts, so the attempt count is Delivery.Attempts.
type DeliveryDetail struct {
	Delivery
	Attempts []Attempt `json:"history"`
}

// Attempt is one try to deliver.
type Attempt struct {
	Number     int       `json:"number"`
	StartedAt  time.Time `json:"started_at"`
	DurationMS float64   `json:"duration_ms"`
	StatusCode int       `json:"status_code"` // 0 when no response arrived
	ErrorClass string    `json:"error_class,omitempty"`
	Error      string    `json:"error,omitempty"`
	// ResponseBody is the start of the destination's answer: text when it is
	// UTF-8, else base64 with ResponseBodyEncoding "base64".
	ResponseBody         string `json:"response_body,omitempty"`
	ResponseBodyEncoding string `json:"response_body_encoding,omitempty"`
	// ResponseBodyMasked is set when PII was hidden from ResponseBody for
	// a role below admin (values masked, or the whole answer withheld).
	ResponseBodyMasked bool `json:"response_body_masked,omitempty"`
}

// EventList is a page of GET /api/v1/events. NextCursor is empty on the
// last page.
type EventList struct {
	Events     []Event `json:"events"`
	NextCursor string  `json:"next_cursor"`
}

// DeliveryList is a page of GET /api/v1/deliveries or /api/v1/dlq.
// NextCursor is empty on the last page.
type DeliveryList struct {
	Deliveries []Delivery `json:"deliveries"`
	NextCursor string     `json:"next_cursor"`
}

// ReplayRequest is the body of POST /api/v1/dlq/replay: either IDs, or All
// with optional filters (Destination, Route, ErrorClasses, Since, Until).
// States says which terminal states are replayed: dead (the default),
// cancelled, succeeded. DryRun only counts.
type ReplayRequest struct {
	IDs          []string `json:"ids,omitempty"`
	All          bool     `json:"all,omitempty"`
	Destination  string   `json:"destination,omitempty"`
	Route        string   `json:"route,omitempty"`
	ErrorClasses []string `json:"error_classes,omitempty"` // class of the last attempt: 5xx, 4xx, 429, timeout, …
	// Since and Until bound the deliveries' creation time: an RFC 3339
	// time, or a duration meaning that long ago ("24h").
	Since  string   `json:"since,omitempty"`
	Until  string   `json:"until,omitempty"`
	States []string `json:"states,omitempty"`
	DryRun bool     `json:"dry_run,omitempty"`
	// Rate paces the replay: the deliveries become due spread out at this
	// many per second. Zero: all due at once.
	Rate float64 `json:"rate,omitempty"`
}

// MaxReplayIDs bounds ReplayRequest.IDs; send more in several requests.
const MaxReplayIDs = 1000

// ReplayResult answers POST /api/v1/dlq/replay. Matched counts the dead
// deliveries the request selected; Replayed those made pending again. The
// two differ when the queue changes meanwhile (another replay, or new dead
// letters arriving during an "all").
type ReplayResult struct {
	Matched  int  `json:"matched"`
	Replayed int  `json:"replayed"`
	DryRun   bool `json:"dry_run"`
	// DueUntil is when the last replayed delivery becomes due, for a paced
	// replay (Rate set).
	DueUntil time.Time `json:"due_until,omitzero"`
}

// EventQuery filters GET /api/v1/events. Zero fields match all.
type EventQuery struct {
	Source   string
	Topic    string
	DedupKey string
	// Q finds events by a provider's id: the event id exactly, or a dedup
	// key (the provider's delivery id) by prefix.
	Q string
	// States keeps events with a delivery in one of these states.
	States []string
	Since  time.Time // received at or after
	Until  time.Time // received before
	Cursor string
	Limit  int // 1–1000; default 50
}

func (q EventQuery) values() url.Values {
	v := url.Values{}
	set(v, "source", q.Source)
	set(v, "topic", q.Topic)
	set(v, "dedup_key", q.DedupKey)
	set(v, "q", q.Q)
	if len(q.States) > 0 {
		v.Set("state", strings.Join(q.States, ","))
	}
	setCommon(v, q.Since, q.Until, q.Cursor, q.Limit)
	return v
}

// DeliveryQuery filters GET /api/v1/deliveries and /api/v1/dlq (which
// ignores States). Zero fields match all.
type DeliveryQuery struct {
	States      []string
	Destination string
	Route       string
	EventID     string
	// ErrorClasses matches the class of the last failed attempt.
	ErrorClasses []string
	Since        time.Time // created at or after
	Until        time.Time // created before
	Cursor       string
	Limit        int // 1–1000; default 50
}

func (q DeliveryQuery) values() url.Values {
	v := url.Values{}
	if len(q.States) > 0 {
		v.Set("state", strings.Join(q.States, ","))
	}
	set(v, "destination", q.Destination)
	set(v, "route", q.Route)
	set(v, "event_id", q.EventID)
	if len(q.ErrorClasses) > 0 {
		v.Set("error_class", strings.Join(q.ErrorClasses, ","))
	}
	setCommon(v, q.Since, q.Until, q.Cursor, q.Limit)
	return v
}

func set(v url.Values, k, s string) {
	if s != "" {
		v.Set(k, s)
	}
}

func setCommon(v url.Values, since, until time.Time, cursor string, limit int) {
	if !since.IsZero() {
		v.Set("since", since.UTC().Format(time.RFC3339Nano))
	}
	if !until.IsZero() {
		v.Set("until", until.UTC().Format(time.RFC3339Nano))
	}
	set(v, "cursor", cursor)
	if limit != 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
}

// Problem is an RFC 9457 problem detail. Client returns one as the error for
// every non-2xx answer; errors.Is matches it against the webhook sentinel
// errors (webhook.ErrNotFound for 404, and so on).
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

func (p *Problem) Error() string {
	return fmt.Sprintf("admin API: %d %s: %s", p.Status, p.Title, p.Detail)
}

// Unwrap maps the status back to the sentinel the server translated.
func (p *Problem) Unwrap() error {
	switch p.Status {
	case http.StatusBadRequest:
		return webhook.ErrInvalid
	case http.StatusUnauthorized:
		return webhook.ErrUnauthorized
	case http.StatusForbidden:
		return webhook.ErrForbidden
	case http.StatusNotFound:
		return webhook.ErrNotFound
	case http.StatusRequestEntityTooLarge:
		return webhook.ErrTooLarge
	case http.StatusServiceUnavailable:
		return webhook.ErrUnavailable
	}
	return nil
}

// sensitiveHeader reports whether a header carries a credential or a
// signature, whose value the API never shows. name is lower-cased.
func sensitiveHeader(name string) bool {
	for _, s := range []string{"signature", "hmac", "authorization", "token", "secret", "cookie",
		"api-key", "apikey", "password"} {
		if strings.Contains(name, s) {
			return true
		}
	}
	return false
}

// maskHeaders copies h, replacing each value of a sensitive header with "***".
func maskHeaders(h http.Header) map[string][]string {
	if len(h) == 0 {
		return nil
	}
	out := make(map[string][]string, len(h))
	for k, vs := range h {
		if sensitiveHeader(strings.ToLower(k)) {
			masked := make([]string, len(vs))
			for i := range masked {
				masked[i] = "***"
			}
			out[k] = masked
			continue
		}
		out[k] = vs
	}
	return out
}

// encodeBody picks the most readable faithful encoding of b.
// maxEmbedDepth bounds the nesting of a body embedded as raw JSON: a
// deeper one (kept in quarantine, say) is sent as text so clients' decoders
// are not asked to recurse through it.
const maxEmbedDepth = 100

func encodeBody(b []byte) (json.RawMessage, string) {
	switch {
	case len(b) == 0:
		return nil, ""
	case webhook.JSONDepthOK(b, maxEmbedDepth) && json.Valid(b):
		return json.RawMessage(b), EncodingJSON
	case utf8.Valid(b):
		return jsonString(string(b)), EncodingText
	}
	return jsonString(base64.StdEncoding.EncodeToString(b)), EncodingBase64
}

// jsonString quotes s as a JSON string, without HTML escaping, so the text
// reads as it was sent.
func jsonString(s string) json.RawMessage {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string always encodes
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func decodeBody(raw json.RawMessage, encoding string) ([]byte, error) {
	switch encoding {
	case "":
		return nil, nil
	case EncodingJSON:
		return raw, nil
	case EncodingText, EncodingBase64:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("body: %w", err)
		}
		if encoding == EncodingText {
			return []byte(s), nil
		}
		return base64.StdEncoding.DecodeString(s)
	}
	return nil, fmt.Errorf("body: unknown encoding %q", encoding)
}

func eventSummary(ev *webhook.Event) Event {
	return Event{ID: ev.ID, Source: ev.Source, Provider: ev.Provider, Topic: ev.Topic, DedupKey: ev.DedupKey,
		ReceivedAt: ev.ReceivedAt.UTC()}
}

func eventDetail(ev *webhook.Event) Event {
	out := eventSummary(ev)
	out.Headers = maskHeaders(ev.Headers)
	out.Body, out.BodyEncoding = encodeBody(ev.Body)
	out.BodySize = len(ev.Body)
	return out
}

func delivery(d *webhook.Delivery) Delivery {
	out := Delivery{ID: d.ID, EventID: d.EventID, Destination: d.Destination, Route: d.Route,
		State: string(d.State), Priority: d.Priority, OrderingKey: d.OrderingKey, Attempts: d.Attempts,
		MaxAttempts: d.MaxAttempts, IdempotencyKey: d.IdempotencyKey(), LastError: d.LastError,
		LastErrorClass: d.LastErrorClass, CreatedAt: utc(d.CreatedAt), UpdatedAt: utc(d.UpdatedAt),
		CompletedAt: utc(d.CompletedAt)}
	switch d.State {
	case webhook.StatePending:
		out.NextAttemptAt = utc(d.NextAttemptAt)
	case webhook.StateInFlight:
		out.NextAttemptAt = utc(d.NextAttemptAt)
		out.LeaseOwner = d.LeaseOwner
	}
	return out
}

func attempts(as []webhook.Attempt) []Attempt {
	out := make([]Attempt, len(as))
	for i, a := range as {
		out[i] = Attempt{Number: a.Number, StartedAt: utc(a.StartedAt),
			DurationMS: float64(a.Duration.Microseconds()) / 1000, StatusCode: a.StatusCode,
			ErrorClass: a.ErrorClass, Error: a.Error}
		if len(a.ResponseBody) > 0 {
			if utf8.Valid(a.ResponseBody) {
				out[i].ResponseBody = string(a.ResponseBody)
			} else {
				out[i].ResponseBody = base64.StdEncoding.EncodeToString(a.ResponseBody)
				out[i].ResponseBodyEncoding = EncodingBase64
			}
		}
	}
	return out
}

func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// Quarantined is an authentic request that failed validation.
type Quarantined struct {
	Event
	Reason string `json:"reason"`
}

// QuarantineList is a page of quarantined requests.
type QuarantineList struct {
	Items      []Quarantined `json:"items"`
	NextCursor string        `json:"next_cursor,omitempty"`
}

// DestinationActionRequest is the optional body of pause, resume and enable.
type DestinationActionRequest struct {
	Reason string `json:"reason,omitempty"`
}
