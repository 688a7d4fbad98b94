package config

// deliveryControls checks a destination's rate limit, breaker and
// auto-disable keys.
func (v *validator) deliveryControls(p string, d *Destination) {
	if d.RateLimit != "" {
		if _, err := ParseRate(d.RateLimit); err != nil {
			v.errorf(p+".rate_limit", "%v", err)
		}
	}
	if d.MaxInFlight < 0 {
		v.errorf(p+".max_in_flight", "must not be negative, got %d", d.MaxInFlight)
	}
	if d.Burst < 0 {
		v.errorf(p+".burst", "must not be negative, got %d", d.Burst)
	}
	if d.Burst > 0 && d.RateLimit == "" {
		v.errorf(p+".burst", "needs rate_limit")
	}
	if d.DisableAfter < 0 {
		v.errorf(p+".disable_after", "must not be negative, got %s", d.DisableAfter)
	}
	b := d.Breaker
	if b == nil {
		return
	}
	bp := p + ".breaker"
	if b.ConsecutiveFailures < 0 {
		v.errorf(bp+".consecutive_failures", "must not be negative, got %d", b.ConsecutiveFailures)
	}
	if b.FailureRatio < 0 || b.FailureRatio > 1 {
		v.errorf(bp+".failure_ratio", "must be between 0 and 1, got %g", b.FailureRatio)
	}
	if b.ConsecutiveFailures == 0 && b.FailureRatio == 0 {
		v.errorf(bp, "set consecutive_failures or failure_ratio (or both); otherwise it never opens")
	}
	v.positive(bp+".window", b.Window)
	v.positive(bp+".open_for", b.OpenFor)
	if b.MinRequests < 1 {
		v.errorf(bp+".min_requests", "must be at least 1, got %d", b.MinRequests)
	}
	if b.OnOpen != "hold" && b.OnOpen != "dead_letter" {
		v.errorf(bp+".on_open", "unknown value %q (want hold or dead_letter)", b.OnOpen)
	}
	if b.Probes < 1 {
		v.errorf(bp+".probes", "must be at least 1, got %d", b.Probes)
	}
}
