package alert

import (
	"cmp"
	"context"
	"net/http"
	"time"
)

// DefaultPagerDutyURL is the PagerDuty Events API v2 endpoint.
const DefaultPagerDutyURL = "https://events.pagerduty.com/v2/enqueue"

// pdEvent is a PagerDuty Events API v2 event. trigger and resolve share
// the dedup_key, so PagerDuty keeps one incident per hookyard incident
// (and deduplicates a retried trigger).
type pdEvent struct {
	RoutingKey  string     `json:"routing_key"`
	EventAction string     `json:"event_action"` // trigger or resolve
	DedupKey    string     `json:"dedup_key"`
	Payload     *pdPayload `json:"payload,omitempty"`
	Links       []pdLink   `json:"links,omitempty"`
	Client      string     `json:"client,omitempty"`
}

type pdPayload struct {
	Summary       string         `json:"summary"`
	Source        string         `json:"source"`
	Severity      string         `json:"severity"` // critical, error, warning or info
	Timestamp     string         `json:"timestamp,omitempty"`
	Component     string         `json:"component,omitempty"`
	Group         string         `json:"group,omitempty"`
	Class         string         `json:"class,omitempty"`
	CustomDetails map[string]any `json:"custom_details,omitempty"`
}

type pdLink struct {
	Href string `json:"href"`
	Text string `json:"text"`
}

func pagerDutySender(client *http.Client, target, routingKey string) sender {
	target = cmp.Or(target, DefaultPagerDutyURL)
	return func(ctx context.Context, in *Incident, now time.Time) error {
		return postJSON(ctx, client, "pagerduty", target, nil, pagerDutyEvent(in, routingKey), now)
	}
}

func pagerDutyEvent(in *Incident, routingKey string) pdEvent {
	ev := pdEvent{RoutingKey: routingKey, EventAction: "trigger", DedupKey: "hookyard/" + in.Key, Client: "hookyard"}
	if in.State == StateResolved {
		ev.EventAction = "resolve"
		return ev
	}
	details := map[string]any{"alert": in.Key, "runbook": in.RunbookURL}
	for _, f := range in.Facts {
		details[f.Name] = f.Value
	}
	if len(in.ErrorSamples) > 0 {
		details["top_errors"] = in.ErrorSamples
	}
	summary := in.Summary
	if r := []rune(summary); len(r) > 1024 {
		summary = string(r[:1023]) + "…"
	}
	ev.Payload = &pdPayload{Summary: summary, Source: "hookyard", Severity: in.Severity,
		Timestamp: in.StartedAt.UTC().Format(time.RFC3339), Component: in.Subject, Group: in.Rule, Class: in.Rule,
		CustomDetails: details}
	ev.Links = []pdLink{{Href: in.RunbookURL, Text: "Runbook: " + in.Runbook}}
	return ev
}
