package api

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"
)

// DestinationStatus is one destination's queue: GET /api/v1/destinations.
type DestinationStatus struct {
	Name      string `json:"name"`
	Due       int    `json:"due"`       // pending and due now, waiting for a worker
	Scheduled int    `json:"scheduled"` // pending, waiting for a retry time
	InFlight  int    `json:"inflight"`  // leased by a worker
	Dead      int    `json:"dead"`      // in the dead-letter queue
	// OldestDueAt is the due time of the oldest delivery waiting for a
	// worker; absent when none waits.
	OldestDueAt time.Time `json:"oldest_due_at,omitzero"`
}

// DestinationList is GET /api/v1/destinations: every configured
// destination (and any other that still has work stored), by name.
type DestinationList struct {
	Destinations []DestinationStatus `json:"destinations"`
}

// GET /api/v1/destinations
func (s *server) destinationList(w http.ResponseWriter, r *http.Request, _ who) error {
	if _, err := params(r, nil); err != nil {
		return err
	}
	stats, err := s.store.QueueStats(r.Context(), s.now())
	if err != nil {
		return err
	}
	byName := make(map[string]DestinationStatus, len(stats)+len(s.destinations))
	// Configured destinations without any stored work still appear (idle).
	for _, name := range s.destinations {
		byName[name] = DestinationStatus{Name: name}
	}
	for _, q := range stats {
		byName[q.Destination] = DestinationStatus{Name: q.Destination, Due: q.Due, Scheduled: q.Scheduled,
			InFlight: q.InFlight, Dead: q.Dead, OldestDueAt: utc(q.OldestDue)}
	}
	out := DestinationList{Destinations: make([]DestinationStatus, 0, len(byName))}
	for _, d := range byName {
		out.Destinations = append(out.Destinations, d)
	}
	slices.SortFunc(out.Destinations, func(a, b DestinationStatus) int { return strings.Compare(a.Name, b.Name) })
	return writeJSON(w, http.StatusOK, out)
}

// Destinations reports every destination's queue.
func (c *Client) Destinations(ctx context.Context) (DestinationList, error) {
	var out DestinationList
	return out, c.do(ctx, http.MethodGet, "/api/v1/destinations", nil, nil, &out)
}
