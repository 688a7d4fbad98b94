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
	now := s.now()
	qs, err := s.store.QueueStats(r.Context(), now)
	if err != nil {
		return err
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
	return writeJSON(w, http.StatusOK, out)
}

// Destinations lists every destination's queue.
func (c *Client) Destinations(ctx context.Context) (DestinationList, error) {
	var out DestinationList
	return out, c.do(ctx, http.MethodGet, "/api/v1/destinations", nil, nil, &out)
}
