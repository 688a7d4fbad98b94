package main

import (
	"context"

	"github.com/hookyard/hookyard/internal/api"
	"github.com/hookyard/hookyard/internal/config"
	"github.com/hookyard/hookyard/internal/deliver"
	"github.com/hookyard/hookyard/internal/store"
)

// deliveryDestination turns a configured destination into the delivery
// engine's settings: retry policy, worker budget, breaker, rate limit and
// auto-disable.
func deliveryDestination(d config.Destination, snd deliver.Sender) deliver.Destination {
	out := deliver.Destination{Name: d.Name, Sender: snd, Policy: deliver.NewPolicy(d.Retry),
		Concurrency: d.Concurrency, Timeout: d.Timeout.D(), DisableAfter: d.DisableAfter.D(), Burst: d.Burst,
		MaxInFlight: d.MaxInFlight}
	if d.RateLimit != "" {
		out.Rate, _ = config.ParseRate(d.RateLimit) // validated with the config
	}
	if b := d.Breaker; b != nil {
		out.Breaker = deliver.BreakerConfig{ConsecutiveFailures: b.ConsecutiveFailures, FailureRatio: b.FailureRatio,
			Window: b.Window.D(), MinRequests: b.MinRequests, OpenFor: b.OpenFor.D(), Probes: b.Probes}
		out.DeadLetterOnOpen = b.OnOpen == "dead_letter"
	}
	return out
}

// destinationControls gives the admin API the shared destination state and
// this node's engine (breaker states, and applying a status change at once).
func destinationControls(ctl store.Destinations, e *deliver.Engine) api.DestinationControls {
	return api.DestinationControls{Controls: ctl,
		Breaker: func(name string) string { return deliver.BreakerName(e.BreakerState(name)) },
		Refresh: func(ctx context.Context) { e.Refresh(ctx) },
	}
}
