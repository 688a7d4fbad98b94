package alert

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// webhookMessage is the generic webhook notifier's body: the incident as
// JSON. Receivers deduplicate on key and status (also sent as the
// Idempotency-Key header, identical across retries).
type webhookMessage struct {
	Version      int        `json:"version"` // 1
	Status       string     `json:"status"`  // firing or resolved
	Key          string     `json:"key"`
	Rule         string     `json:"rule"`
	Severity     string     `json:"severity"`
	Subject      string     `json:"subject"`
	Summary      string     `json:"summary"`
	Facts        []jsonFact `json:"facts,omitempty"`
	ErrorSamples []string   `json:"error_samples,omitempty"`
	RunbookURL   string     `json:"runbook_url"`
	StartedAt    time.Time  `json:"started_at"`
	ResolvedAt   time.Time  `json:"resolved_at,omitzero"`
}

type jsonFact struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

func webhookSender(client *http.Client, target string, headers map[string]string) sender {
	h := http.Header{}
	for k, v := range headers {
		h.Set(k, v)
	}
	return func(ctx context.Context, in *Incident, now time.Time) error {
		hdr := h.Clone()
		hdr.Set("Idempotency-Key", fmt.Sprintf("hookyard-alert/%s/%s/%d", in.Key, in.State, in.StartedAt.Unix()))
		return postJSON(ctx, client, "webhook", target, hdr, webhookBody(in), now)
	}
}

func webhookBody(in *Incident) webhookMessage {
	m := webhookMessage{Version: 1, Status: in.State, Key: in.Key, Rule: in.Rule, Severity: in.Severity,
		Subject: in.Subject, Summary: in.Summary, ErrorSamples: in.ErrorSamples, RunbookURL: in.RunbookURL,
		StartedAt: in.StartedAt.UTC(), ResolvedAt: in.ResolvedAt.UTC()}
	for _, f := range in.Facts {
		m.Facts = append(m.Facts, jsonFact{f.Name, f.Value})
	}
	return m
}
