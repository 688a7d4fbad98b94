// Package reconciletest serves fake provider APIs for reconciliation
// tests: real HTTP servers (httptest) answering with the providers'
// documented list shapes, pagination, rate limits and transient errors.
package reconciletest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"
)

// StripeEvent builds a Stripe event object (the shape of
// GET /v1/events items and of webhook bodies).
func StripeEvent(id, typ string, created time.Time, amount int) []byte {
	b, _ := json.Marshal(map[string]any{
		"id": id, "object": "event", "api_version": "2024-06-20", "created": created.Unix(), "type": typ,
		"livemode": false, "pending_webhooks": 1, "request": map[string]any{"id": nil, "idempotency_key": nil},
		"data": map[string]any{"object": map[string]any{
			"id": "pi_" + id[4:], "object": "payment_intent", "amount": amount, "currency": "usd", "status": "succeeded",
		}},
	})
	return b
}

// Stripe is a fake Stripe API serving GET /v1/events like Stripe: newest
// first, created[gte]/created[lt] filters, limit (max 100), has_more and
// starting_after, bearer authentication.
type Stripe struct {
	*httptest.Server
	Key string

	mu     sync.Mutex
	events []stripeEvent // newest first
	// Faults are answered, one per request, before normal answers: a
	// status code (429 carries Retry-After: 2).
	Faults []int
	// Requests records every request's raw query.
	Requests []string
	// Gate, when set, is received from before answering a request whose
	// starting_after equals GateAfter.
	Gate      chan struct{}
	GateAfter string
}

type stripeEvent struct {
	id      string
	created int64
	raw     json.RawMessage
}

// NewStripe starts a fake Stripe with events (bodies as StripeEvent
// builds them).
func NewStripe(t testing.TB, key string, events [][]byte) *Stripe {
	s := &Stripe{Key: key}
	for _, raw := range events {
		var e struct {
			ID      string `json:"id"`
			Created int64  `json:"created"`
		}
		if err := json.Unmarshal(raw, &e); err != nil {
			t.Fatal(err)
		}
		s.events = append(s.events, stripeEvent{e.ID, e.Created, raw})
	}
	// Stripe lists newest first; ties by id, descending.
	sort.SliceStable(s.events, func(i, j int) bool {
		if s.events[i].created != s.events[j].created {
			return s.events[i].created > s.events[j].created
		}
		return s.events[i].id > s.events[j].id
	})
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *Stripe) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+s.Key {
		stripeError(w, http.StatusUnauthorized, "invalid_request_error", "Invalid API Key provided")
		return
	}
	if r.Method != http.MethodGet || r.URL.Path != "/v1/events" {
		stripeError(w, http.StatusNotFound, "invalid_request_error", "Unrecognized request URL")
		return
	}
	q := r.URL.Query()
	s.mu.Lock()
	s.Requests = append(s.Requests, r.URL.RawQuery)
	var fault int
	if len(s.Faults) > 0 {
		fault, s.Faults = s.Faults[0], s.Faults[1:]
	}
	gate := s.Gate
	if q.Get("starting_after") != s.GateAfter {
		gate = nil
	}
	s.mu.Unlock()
	if gate != nil {
		<-gate
	}
	switch fault {
	case 0:
	case http.StatusTooManyRequests:
		w.Header().Set("Retry-After", "2")
		stripeError(w, fault, "rate_limit_error", "Too many requests hit the API too quickly.")
		return
	default:
		stripeError(w, fault, "api_error", "An unknown error occurred")
		return
	}
	limit := 10
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 100 {
			stripeError(w, http.StatusBadRequest, "invalid_request_error", "Invalid limit: must be between 1 and 100")
			return
		}
		limit = n
	}
	gte, _ := strconv.ParseInt(q.Get("created[gte]"), 10, 64)
	lt, err := strconv.ParseInt(q.Get("created[lt]"), 10, 64)
	if err != nil {
		lt = 1 << 62
	}
	after := q.Get("starting_after")
	s.mu.Lock()
	var page []json.RawMessage
	started := after == ""
	more := false
	for _, e := range s.events {
		if e.created < gte || e.created >= lt {
			continue
		}
		if !started {
			started = e.id == after
			continue
		}
		if len(page) == limit {
			more = true
			break
		}
		page = append(page, e.raw)
	}
	s.mu.Unlock()
	if page == nil {
		page = []json.RawMessage{}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Request-Id", fmt.Sprintf("req_%d", time.Now().UnixNano()))
	json.NewEncoder(w).Encode(map[string]any{"object": "list", "url": "/v1/events", "has_more": more, "data": page})
}

// RequestCount returns how many requests were answered or faulted.
func (s *Stripe) RequestCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.Requests)
}

// Hold makes requests starting after the event id after (""
// for the first page) wait until the returned channel is closed.
func (s *Stripe) Hold(after string) chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Gate, s.GateAfter = make(chan struct{}), after
	return s.Gate
}

// Request returns the raw query of the i-th request.
func (s *Stripe) Request(i int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Requests[i]
}

func stripeError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"type": typ, "message": msg}})
}
