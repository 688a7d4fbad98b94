package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/hookyard/hookyard/internal/drift"
	"github.com/hookyard/hookyard/internal/webhook"
)

// DriftTracker is the node's schema drift tracker (*drift.Tracker). It is
// optional: without it (drift.enabled false) the drift endpoints answer 404.
type DriftTracker interface {
	Reports(ctx context.Context, source, topic string) ([]drift.Report, error)
	Freeze(ctx context.Context, source, topic string) (bool, error)
}

// DriftList answers GET /api/v1/drift.
type DriftList struct {
	Streams []drift.Report `json:"streams"`
}

// FreezeRequest is the body of POST /api/v1/drift/freeze.
type FreezeRequest struct {
	Source string `json:"source"`
	Topic  string `json:"topic"`
}

var driftParams = []string{"source", "topic"}

var errNoDrift = fmt.Errorf("%w: schema drift tracking is off (drift.enabled)", webhook.ErrNotFound)

// GET /api/v1/drift: every (source, topic) tracked, or those of ?source
// and ?topic, with the paths that drifted from the baseline.
func (s *server) driftList(w http.ResponseWriter, r *http.Request, _ who) error {
	if s.drift == nil {
		return errNoDrift
	}
	q, err := params(r, driftParams)
	if err != nil {
		return err
	}
	reps, err := s.drift.Reports(r.Context(), q.Get("source"), q.Get("topic"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, DriftList{Streams: reps})
}

// POST /api/v1/drift/freeze: make everything seen so far the baseline of
// one (source, topic), accepting its drift.
func (s *server) driftFreeze(w http.ResponseWriter, r *http.Request, _ who) error {
	if s.drift == nil {
		return errNoDrift
	}
	var req FreezeRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	if req.Source == "" {
		return invalid("source", "is required")
	}
	noteAudit(r, req.Source+" "+req.Topic, "", false)
	ok, err := s.drift.Freeze(r.Context(), req.Source, req.Topic)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: no events of source %q and topic %q were tracked", webhook.ErrNotFound, req.Source, req.Topic)
	}
	reps, err := s.drift.Reports(r.Context(), req.Source, req.Topic)
	if err != nil {
		return err
	}
	for _, rep := range reps {
		if rep.Topic == req.Topic {
			return writeJSON(w, http.StatusOK, rep)
		}
	}
	return fmt.Errorf("%w: stream %q %q vanished", webhook.ErrNotFound, req.Source, req.Topic)
}

// Drift lists the tracked streams of source and topic ("" for any).
func (c *Client) Drift(ctx context.Context, source, topic string) (DriftList, error) {
	q := url.Values{}
	if source != "" {
		q.Set("source", source)
	}
	if topic != "" {
		q.Set("topic", topic)
	}
	var out DriftList
	return out, c.do(ctx, http.MethodGet, "/api/v1/drift", q, nil, &out)
}

// DriftFreeze freezes the baseline of (source, topic).
func (c *Client) DriftFreeze(ctx context.Context, source, topic string) (drift.Report, error) {
	var out drift.Report
	return out, c.do(ctx, http.MethodPost, "/api/v1/drift/freeze", nil, FreezeRequest{Source: source, Topic: topic}, &out)
}
