package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"
)

// DestinationControls is what pause, resume and enable need: the shared
// state in the store, this node's breakers, and a hook that makes this
// node apply a status change at once (other nodes apply it within their
// idle poll). Without Controls the destination list shows every
// destination active and the actions answer 404.
type DestinationControls struct {
	Controls store.Destinations
	Breaker  func(name string) string // "closed", "half_open" or "open" on this node
	Refresh  func(ctx context.Context)
}

// maxReason bounds the operator's reason for a pause.
const maxReason = 500

// GET /api/v1/destinations/{name}: one destination's queue and state.
func (s *server) destinationGet(w http.ResponseWriter, r *http.Request, _ who) error {
	return s.writeDestination(w, r.Context(), r.PathValue("name"))
}

// writeDestination answers one destination's queue and state.
func (s *server) writeDestination(w http.ResponseWriter, ctx context.Context, name string) error {
	list, err := s.destinationStatuses(ctx)
	if err != nil {
		return err
	}
	for _, d := range list.Destinations {
		if d.Name == name {
			return writeJSON(w, http.StatusOK, d)
		}
	}
	return fmt.Errorf("%w: no destination %q", webhook.ErrNotFound, name)
}

// destinationAction is POST /api/v1/destinations/{name}/{pause,resume,enable}:
// a status transition, allowed only from the listed statuses. Repeating
// it (pausing a paused destination) is not an error and changes nothing.
func (s *server) destinationAction(from []string, to string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, caller who) error {
		name := r.PathValue("name")
		if s.ctl.Controls == nil || !slices.Contains(s.destinations, name) {
			return fmt.Errorf("%w: no destination %q in the configuration", webhook.ErrNotFound, name)
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
		st, changed, err := s.ctl.Controls.DestinationSetStatus(r.Context(), name, from, to, reason, s.now())
		if err != nil {
			return err
		}
		if st.Status != to {
			return fmt.Errorf("%w: destination %s is %s; %s", errConflict, name, st.Status, hint(st.Status))
		}
		if changed {
			s.log.Info("destination status changed", "destination", name, "status", to, "by", caller.name)
			if s.ctl.Refresh != nil {
				s.ctl.Refresh(r.Context())
			}
		}
		return s.writeDestination(w, r.Context(), name)
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

// destinationStates reads the shared state rows (none without Controls).
func (s *server) destinationStates(ctx context.Context) (map[string]store.DestinationState, error) {
	if s.ctl.Controls == nil {
		return nil, nil
	}
	all, err := s.ctl.Controls.DestinationStates(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[string]store.DestinationState, len(all))
	for _, st := range all {
		m[st.Destination] = st
	}
	return m, nil
}

// addControlState fills d's status, reason and breaker from st (a zero st
// is an active destination).
func (s *server) addControlState(d *DestinationStatus, st store.DestinationState) {
	d.Status, d.Reason = cmpStatus(st.Status), st.Reason
	d.Since, d.FailingSince = optTime(st.Since), optTime(st.FailingSince)
	d.Breaker = "closed"
	if s.ctl.Breaker != nil {
		d.Breaker = s.ctl.Breaker(d.Name)
	}
	if st.BreakerOpenUntil.After(s.now()) {
		d.BreakerOpenUntil = optTime(st.BreakerOpenUntil)
	}
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

// Destination returns one destination's queue and state
// (GET /api/v1/destinations/{name}).
func (c *Client) Destination(ctx context.Context, name string) (DestinationStatus, error) {
	var out DestinationStatus
	return out, c.do(ctx, http.MethodGet, "/api/v1/destinations/"+url.PathEscape(name), nil, nil, &out)
}

// DestinationAction pauses, resumes or enables a destination (action is
// "pause", "resume" or "enable") and returns its status after.
func (c *Client) DestinationAction(ctx context.Context, name, action, reason string) (DestinationStatus, error) {
	var out DestinationStatus
	return out, c.do(ctx, http.MethodPost, "/api/v1/destinations/"+url.PathEscape(name)+"/"+url.PathEscape(action), nil,
		DestinationActionRequest{Reason: reason}, &out)
}
