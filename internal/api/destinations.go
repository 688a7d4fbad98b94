package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"
)

// Destinations is what the destination endpoints need: the configured
// names, the shared state in the store, this node's breakers, and a hook
// that makes this node apply a status change at once (other nodes apply
// it within their idle poll).
type Destinations struct {
	Names    []string
	Controls store.Destinations
	Breaker  func(name string) string // "closed", "half_open" or "open" on this node
	Refresh  func(ctx context.Context)
}

// maxReason bounds the operator's reason for a pause.
const maxReason = 500

// GET /api/v1/destinations: every configured destination with its status.
func (s *server) destinationList(w http.ResponseWriter, r *http.Request, _ who) error {
	states, err := s.destinationStates(r.Context())
	if err != nil {
		return err
	}
	out := DestinationList{Destinations: []DestinationStatus{}}
	for _, name := range s.dests.Names {
		out.Destinations = append(out.Destinations, s.wireDestination(name, states[name]))
	}
	return writeJSON(w, http.StatusOK, out)
}

// GET /api/v1/destinations/{name}
func (s *server) destinationGet(w http.ResponseWriter, r *http.Request, _ who) error {
	name, err := s.destinationName(r)
	if err != nil {
		return err
	}
	states, err := s.destinationStates(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.wireDestination(name, states[name]))
}

// destinationAction is POST /api/v1/destinations/{name}/{pause,resume,enable}:
// a status transition, allowed only from the listed statuses. Repeating
// it (pausing a paused destination) is not an error and changes nothing.
func (s *server) destinationAction(from []string, to string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, caller who) error {
		name, err := s.destinationName(r)
		if err != nil {
			return err
		}
		var req DestinationActionRequest
		if r.ContentLength != 0 {
			if err := readJSON(w, r, &req); err != nil {
				return err
			}
		}
		req.Reason = strings.TrimSpace(req.Reason)
		switch {
		case len(req.Reason) > maxReason:
			return invalid("reason", "%d bytes; at most %d", len(req.Reason), maxReason)
		case strings.ContainsFunc(req.Reason, func(r rune) bool { return r < ' ' || r == 0x7f }):
			return invalid("reason", "control characters are not allowed")
		}
		reason := req.Reason
		if to == store.StatusPaused {
			reason = fmt.Sprintf("paused by %s", caller.name)
			if req.Reason != "" {
				reason += ": " + req.Reason
			}
		}
		st, changed, err := s.dests.Controls.DestinationSetStatus(r.Context(), name, from, to, reason, s.now())
		if err != nil {
			return err
		}
		if st.Status != to {
			return fmt.Errorf("%w: destination %s is %s; %s", errConflict, name, st.Status, hint(st.Status))
		}
		if changed {
			s.log.Info("destination status changed", "destination", name, "status", to, "by", caller.name)
			if s.dests.Refresh != nil {
				s.dests.Refresh(r.Context())
			}
		}
		return writeJSON(w, http.StatusOK, s.wireDestination(name, st))
	}
}

func hint(status string) string {
	switch status {
	case store.StatusDisabled:
		return "enable it (POST …/enable) to deliver again"
	case store.StatusPaused:
		return "resume it (POST …/resume) first"
	}
	return "pause it first"
}

func (s *server) destinationName(r *http.Request) (string, error) {
	name := r.PathValue("name")
	if s.dests.Controls == nil || !slices.Contains(s.dests.Names, name) {
		return "", fmt.Errorf("%w: no destination %q in the configuration", webhook.ErrNotFound, name)
	}
	return name, nil
}

func (s *server) destinationStates(ctx context.Context) (map[string]store.DestinationState, error) {
	if s.dests.Controls == nil {
		return nil, fmt.Errorf("%w: destination controls are not available", webhook.ErrNotFound)
	}
	all, err := s.dests.Controls.DestinationStates(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[string]store.DestinationState, len(all))
	for _, st := range all {
		m[st.Destination] = st
	}
	return m, nil
}

func (s *server) wireDestination(name string, st store.DestinationState) DestinationStatus {
	out := DestinationStatus{Name: name, Status: cmpStatus(st.Status), Reason: st.Reason,
		Since: optTime(st.Since), FailingSince: optTime(st.FailingSince), Breaker: "closed"}
	if s.dests.Breaker != nil {
		out.Breaker = s.dests.Breaker(name)
	}
	if st.BreakerOpenUntil.After(s.now()) {
		out.BreakerOpenUntil = optTime(st.BreakerOpenUntil)
	}
	return out
}

func cmpStatus(s string) string {
	if s == "" {
		return store.StatusActive
	}
	return s
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}
