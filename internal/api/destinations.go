package api

import (
	"context"
	"net/http"
	"slices"
	"time"
)

// DestinationStatus is one destination's queue: GET /api/v1/destinations.
type DestinationStatus struct {
	Name      string    `json:"name"`
	Due       int       `json:"due"`       // pending and due now, waiting for a worker
	Scheduled int       `json:"scheduled"` // pending, waiting for a retry time
	InFlight  int       `json:"in_flight"`
	Dead      int       `json:"dead"`
	OldestDue time.Time `json:"oldest_due,omitzero"`
	// OldestDueAgeSeconds is how long the oldest due delivery has waited.
	OldestDueAgeSeconds float64 `json:"oldest_due_age_seconds"`

	// Status is active, paused (by an operator) or disabled (after
	// sustained failure or an HTTP 410); deliveries of a paused or
	// disabled destination accumulate and are sent after resume/enable.
	Status string     `json:"status"`
	Reason string     `json:"reason,omitempty"`
	Since  *time.Time `json:"since,omitempty"`
	// FailingSince is the start of the current run of failed attempts.
	FailingSince *time.Time `json:"failing_since,omitempty"`
	// Breaker is the circuit breaker's state on the answering node
	// (closed, half_open, open); BreakerOpenUntil is when an open breaker
	// (opened by any node) lets a probe through.
	Breaker          string     `json:"breaker"`
	BreakerOpenUntil *time.Time `json:"breaker_open_until,omitempty"`
}

// DestinationList answers GET /api/v1/destinations, sorted by name.
type DestinationList struct {
	Destinations []DestinationStatus `json:"destinations"`
}

// GET /api/v1/destinations: every configured destination (and any other
// with stored work) with its queue: due, scheduled, in flight, dead, and
// the age of the oldest due delivery.
func (s *server) destinationList(w http.ResponseWriter, r *http.Request, _ who) error {
	if _, err := params(r, nil); err != nil {
		return err
	}
	out, err := s.destinationStatuses(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// destinationStatuses is every destination's queue and delivery state.
func (s *server) destinationStatuses(ctx context.Context) (DestinationList, error) {
	now := s.now()
	qs, err := s.store.QueueStats(ctx, now)
	if err != nil {
		return DestinationList{}, err
	}
	states, err := s.destinationStates(ctx)
	if err != nil {
		return DestinationList{}, err
	}
	byName := map[string]DestinationStatus{}
	for _, name := range s.destinations {
		byName[name] = DestinationStatus{Name: name}
	}
	for _, q := range qs {
		d := DestinationStatus{Name: q.Destination, Due: q.Due, Scheduled: q.Scheduled, InFlight: q.InFlight,
			Dead: q.Dead, OldestDue: utc(q.OldestDue)}
		if !q.OldestDue.IsZero() && now.After(q.OldestDue) {
			d.OldestDueAgeSeconds = now.Sub(q.OldestDue).Seconds()
		}
		byName[q.Destination] = d
	}
	out := DestinationList{Destinations: make([]DestinationStatus, 0, len(byName))}
	for _, d := range byName {
		s.addControlState(&d, states[d.Name])
		out.Destinations = append(out.Destinations, d)
	}
	slices.SortFunc(out.Destinations, func(a, b DestinationStatus) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return out, nil
}

// Destinations lists every destination's queue.
func (c *Client) Destinations(ctx context.Context) (DestinationList, error) {
	var out DestinationList
	return out, c.do(ctx, http.MethodGet, "/api/v1/destinations", nil, nil, &out)
}
