package api

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/hookyard/hookyard/internal/webhook"
)

// AlertSource is the node's SLO and alert state (internal/alert, adapted in
// cmd/hookyard). It is optional: without it the two endpoints answer 404.
type AlertSource interface {
	// Alerts returns the firing incidents and the recently resolved ones.
	Alerts() AlertList
	// SLOs returns the status of every SLO.
	SLOs() SLOList
}

// Alert is one incident: GET /api/v1/alerts.
type Alert struct {
	// Key is stable for a rule and subject (PagerDuty's dedup_key).
	Key      string `json:"key"`
	Rule     string `json:"rule"`
	Severity string `json:"severity"` // critical or warning
	// Subject is the destination, or the source for dedup-surge.
	Subject      string      `json:"subject"`
	State        string      `json:"state"` // firing or resolved
	Summary      string      `json:"summary"`
	Facts        []AlertFact `json:"facts,omitempty"`
	ErrorSamples []string    `json:"error_samples,omitempty"`
	RunbookURL   string      `json:"runbook_url"`
	StartedAt    time.Time   `json:"started_at"`
	ResolvedAt   time.Time   `json:"resolved_at,omitzero"`
}

// AlertFact is one name/value detail of an alert.
type AlertFact struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// AlertList is GET /api/v1/alerts: firing incidents oldest first, then
// the last resolved ones newest first (kept in memory, at most 100).
type AlertList struct {
	Firing   []Alert `json:"firing"`
	Resolved []Alert `json:"resolved"`
}

// SLO is one objective for one destination: GET /api/v1/slos. Numbers
// cover the history the node holds in memory (Covered), at most Window.
type SLO struct {
	Name        string `json:"name"`
	Objective   string `json:"objective"`
	Kind        string `json:"kind"` // success, latency or drain
	Destination string `json:"destination"`
	// Window and Covered are durations ("672h0m0s"); success and latency.
	Window  string `json:"window,omitempty"`
	Covered string `json:"covered,omitempty"`
	// Target is the share of good events asked for (0.99).
	Target float64 `json:"target,omitempty"`
	// Events is the attempts (success) or deliveries (latency) counted.
	Events float64 `json:"events"`
	// SLI is the share of good events; null without events.
	SLI *float64 `json:"sli"`
	// ErrorBudgetRemaining is 1 untouched, 0 spent, below 0 overspent.
	ErrorBudgetRemaining *float64 `json:"error_budget_remaining,omitempty"`
	// BurnRates by window: "5m", "30m", "1h", "6h".
	BurnRates map[string]float64 `json:"burn_rates,omitempty"`
	// ThresholdSeconds is the latency or time-to-drain bound.
	ThresholdSeconds float64 `json:"threshold_seconds,omitempty"`
	// TimeToDrainSeconds is the current estimate (drain); null while
	// nothing completes and work waits (Stalled) or before enough history.
	TimeToDrainSeconds *float64 `json:"time_to_drain_seconds,omitempty"`
	Stalled            bool     `json:"stalled,omitempty"`
	Firing             bool     `json:"firing"`
}

// SLOList is GET /api/v1/slos.
type SLOList struct {
	SLOs []SLO `json:"slos"`
}

var errNoAlerts = fmt.Errorf("%w: SLO and alert evaluation is not running on this node", webhook.ErrNotFound)

// GET /api/v1/alerts
func (s *server) alertList(w http.ResponseWriter, _ *http.Request, _ who) error {
	if s.alerts == nil {
		return errNoAlerts
	}
	l := s.alerts.Alerts()
	if l.Firing == nil {
		l.Firing = []Alert{}
	}
	if l.Resolved == nil {
		l.Resolved = []Alert{}
	}
	return writeJSON(w, http.StatusOK, l)
}

// GET /api/v1/slos
func (s *server) sloList(w http.ResponseWriter, _ *http.Request, _ who) error {
	if s.alerts == nil {
		return errNoAlerts
	}
	l := s.alerts.SLOs()
	if l.SLOs == nil {
		l.SLOs = []SLO{}
	}
	return writeJSON(w, http.StatusOK, l)
}

// Alerts lists firing and recently resolved alerts.
func (c *Client) Alerts(ctx context.Context) (AlertList, error) {
	var out AlertList
	return out, c.do(ctx, http.MethodGet, "/api/v1/alerts", nil, nil, &out)
}

// SLOs reports the status of every SLO.
func (c *Client) SLOs(ctx context.Context) (SLOList, error) {
	var out SLOList
	return out, c.do(ctx, http.MethodGet, "/api/v1/slos", nil, nil, &out)
}
