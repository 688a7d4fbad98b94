package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/hookyard/hookyard/internal/reconcile"
	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"
)

// Reconciler serves the reconciliation endpoints: the runs recorded in the
// store and starting a run on demand.
type Reconciler interface {
	ReconcileRunList(ctx context.Context, source string, limit int) ([]store.ReconcileRun, error)
	ReconcileRunGet(ctx context.Context, id string) (store.ReconcileRun, error)
	// Start begins a run in the background; zero bounds mean the source's
	// lookback window, ending its settle time before now.
	Start(ctx context.Context, source string, since, until time.Time) (store.ReconcileRun, error)
}

// ReconcileRun is a reconciliation run on the wire.
type ReconcileRun struct {
	ID              string    `json:"id"`
	Source          string    `json:"source"`
	Trigger         string    `json:"trigger"` // schedule, manual
	State           string    `json:"state"`   // running, done, failed
	Since           time.Time `json:"since"`
	Until           time.Time `json:"until"`
	Listed          int       `json:"listed"`
	Matched         int       `json:"matched"`
	Missing         int       `json:"missing"`
	Backfilled      int       `json:"backfilled"`
	Quarantined     int       `json:"quarantined"`
	Errors          int       `json:"errors"`
	LastError       string    `json:"last_error,omitempty"`
	StartedAt       time.Time `json:"started_at"`
	FinishedAt      time.Time `json:"finished_at,omitzero"`
	DurationSeconds float64   `json:"duration_seconds"`
}

// ReconcileRunList is the answer of GET /api/v1/reconcile/runs.
type ReconcileRunList struct {
	Runs []ReconcileRun `json:"runs"`
}

// ReconcileRequest is the body of POST /api/v1/reconcile/runs. Since and
// Until are RFC 3339 times; absent, the window is the source's lookback
// ending its settle time before now.
type ReconcileRequest struct {
	Source string    `json:"source"`
	Since  time.Time `json:"since,omitzero"`
	Until  time.Time `json:"until,omitzero"`
}

func wireRun(r store.ReconcileRun) ReconcileRun {
	return ReconcileRun{ID: r.ID, Source: r.Source, Trigger: r.Trigger, State: r.State, Since: r.Since, Until: r.Until,
		Listed: r.Listed, Matched: r.Matched, Missing: r.Missing, Backfilled: r.Backfilled, Quarantined: r.Quarantined, Errors: r.Errors,
		LastError: r.LastError, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, DurationSeconds: r.Duration().Seconds()}
}

var reconcileParams = []string{"source", "limit"}

func (s *server) reconciler() (Reconciler, error) {
	if s.recon == nil {
		return nil, fmt.Errorf("%w: no source has reconciliation configured", webhook.ErrNotFound)
	}
	return s.recon, nil
}

// GET /api/v1/reconcile/runs: runs, newest first.
func (s *server) reconcileRunList(w http.ResponseWriter, r *http.Request, _ who) error {
	rc, err := s.reconciler()
	if err != nil {
		return err
	}
	v, err := params(r, reconcileParams)
	if err != nil {
		return err
	}
	limit := 0
	if l := v.Get("limit"); l != "" {
		if limit, err = strconv.Atoi(l); err != nil || limit < 1 || limit > 1000 {
			return invalid("limit", "want a whole number from 1 to 1000, got %q", l)
		}
	}
	runs, err := rc.ReconcileRunList(r.Context(), v.Get("source"), limit)
	if err != nil {
		return err
	}
	out := ReconcileRunList{Runs: []ReconcileRun{}}
	for _, run := range runs {
		out.Runs = append(out.Runs, wireRun(run))
	}
	return writeJSON(w, http.StatusOK, out)
}

// GET /api/v1/reconcile/runs/{id}
func (s *server) reconcileRunGet(w http.ResponseWriter, r *http.Request, _ who) error {
	rc, err := s.reconciler()
	if err != nil {
		return err
	}
	run, err := rc.ReconcileRunGet(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, wireRun(run))
}

// POST /api/v1/reconcile/runs: start a run now (202); it continues in the
// background, and GET …/runs/{id} shows its progress.
func (s *server) reconcileStart(w http.ResponseWriter, r *http.Request, caller who) error {
	rc, err := s.reconciler()
	if err != nil {
		return err
	}
	var req ReconcileRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	if req.Source == "" {
		return invalid("source", "is required")
	}
	if !req.Since.IsZero() && !req.Until.IsZero() && !req.Since.Before(req.Until) {
		return invalid("since", "must be before until")
	}
	if !req.Until.IsZero() && req.Until.After(s.now().Add(time.Minute)) {
		return invalid("until", "is in the future")
	}
	run, err := rc.Start(r.Context(), req.Source, req.Since, req.Until)
	switch {
	case errors.Is(err, reconcile.ErrUnknownSource):
		return fmt.Errorf("%w: %w", webhook.ErrNotFound, err)
	case errors.Is(err, reconcile.ErrBusy):
		return fmt.Errorf("%w: %w", errConflict, err)
	case err != nil:
		return err
	}
	s.log.Info("reconciliation started", "by", caller.name, "source", run.Source, "run", run.ID)
	return writeJSON(w, http.StatusAccepted, wireRun(run))
}

// ReconcileRuns lists runs, newest first (source "" for all).
func (c *Client) ReconcileRuns(ctx context.Context, source string, limit int) (ReconcileRunList, error) {
	q := url.Values{}
	if source != "" {
		q.Set("source", source)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out ReconcileRunList
	return out, c.do(ctx, http.MethodGet, "/api/v1/reconcile/runs", q, nil, &out)
}

// ReconcileRun returns one run.
func (c *Client) ReconcileRun(ctx context.Context, id string) (ReconcileRun, error) {
	var out ReconcileRun
	return out, c.do(ctx, http.MethodGet, "/api/v1/reconcile/runs/"+url.PathEscape(id), nil, nil, &out)
}

// StartReconcile starts a run.
func (c *Client) StartReconcile(ctx context.Context, req ReconcileRequest) (ReconcileRun, error) {
	var out ReconcileRun
	return out, c.do(ctx, http.MethodPost, "/api/v1/reconcile/runs", nil, req, &out)
}
