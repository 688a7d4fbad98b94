package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Controls holds the delivery-control metrics: breaker state and rate-limit
// waits, per destination. It implements deliver.ControlObserver.
type Controls struct {
	breaker   *prometheus.GaugeVec
	limited   *prometheus.CounterVec
	limitWait *prometheus.CounterVec
}

// NewControls registers the delivery-control metrics, with every
// destination's breaker reported closed until it changes.
func (m *Metrics) NewControls(destinations []string) *Controls {
	c := &Controls{
		breaker: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hookyard_destination_breaker_state",
			Help: "Circuit breaker state on this node: 0 closed, 1 half-open, 2 open.",
		}, []string{"destination"}),
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookyard_delivery_rate_limited_total",
			Help: "Times a destination's dispatcher found its rate limit's token bucket empty and waited.",
		}, []string{"destination"}),
		limitWait: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookyard_delivery_rate_limit_wait_seconds_total",
			Help: "Time dispatchers spent waiting for rate-limit tokens.",
		}, []string{"destination"}),
	}
	for _, d := range destinations {
		c.breaker.WithLabelValues(d).Set(0)
		c.limited.WithLabelValues(d)
		c.limitWait.WithLabelValues(d)
	}
	m.Registry.MustRegister(c.breaker, c.limited, c.limitWait)
	return c
}

// BreakerState records a breaker transition.
func (c *Controls) BreakerState(destination string, state int) {
	c.breaker.WithLabelValues(destination).Set(float64(state))
}

// RateLimited records one wait for tokens.
func (c *Controls) RateLimited(destination string, wait time.Duration) {
	c.limited.WithLabelValues(destination).Inc()
	c.limitWait.WithLabelValues(destination).Add(wait.Seconds())
}

// SetHeld makes the queue depth report a destination's due deliveries as
// state "held" instead of "due" while held(destination) is true (paused,
// disabled, breaker open): work that waits on purpose, not for a worker.
// Call it before serving /metrics.
func (m *Metrics) SetHeld(held func(destination string) bool) { m.held = held }
