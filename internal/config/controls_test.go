package config

import (
	"strings"
	"testing"
	"time"
)

func TestDeliveryControls(t *testing.T) {
	cfg, err := Parse([]byte(destDoc("type: file", "path: ./a", "rate_limit: 600/m", "burst: 5", "disable_after: 3d", "max_in_flight: 7",
		"breaker: {failure_ratio: 0.5, min_requests: 10, consecutive_failures: 8}")), envOf(nil), testOpts)
	if err != nil {
		t.Fatal(err)
	}
	d := cfg.Destinations[0]
	if r, _ := ParseRate(d.RateLimit); r != 10 || d.Burst != 5 || d.DisableAfter.D() != 72*time.Hour || d.MaxInFlight != 7 {
		t.Errorf("rate %v burst %d disable_after %v", r, d.Burst, d.DisableAfter)
	}
	b := d.Breaker
	if b.FailureRatio != 0.5 || b.MinRequests != 10 || b.ConsecutiveFailures != 8 ||
		b.Window.D() != time.Minute || b.OpenFor.D() != 30*time.Second || b.Probes != 1 || b.OnOpen != "hold" {
		t.Errorf("breaker %+v (window, open_for and probes should be defaults)", b)
	}
	// An explicit 0s turns auto-disable off instead of meaning the default.
	cfg, err = Parse([]byte(destDoc("type: file", "path: ./a", "disable_after: 0s")), envOf(nil), testOpts)
	if err != nil || cfg.Destinations[0].DisableAfter != 0 {
		t.Fatalf("disable_after 0s: %v %v", cfg.Destinations[0].DisableAfter, err)
	}
}

func TestDeliveryControlsErrors(t *testing.T) {
	tests := []struct {
		yaml string
		want []string
	}{
		{destDoc("type: file", "path: ./a", "rate_limit: fast", "burst: -1"),
			[]string{"destinations[0].rate_limit:", "destinations[0].burst: must not be negative"}},
		{destDoc("type: file", "path: ./a", "max_in_flight: -2"), []string{"destinations[0].max_in_flight: must not be negative"}},
		{destDoc("type: file", "path: ./a", "burst: 3"), []string{"destinations[0].burst: needs rate_limit"}},
		{destDoc("type: file", "path: ./a", "breaker: {window: 1m}"),
			[]string{"destinations[0].breaker: set consecutive_failures or failure_ratio"}},
		{destDoc("type: file", "path: ./a", "breaker: {failure_ratio: 1.5, open_for: 0s, probes: 0, min_requests: 0}"),
			[]string{"destinations[0].breaker.failure_ratio: must be between 0 and 1", "destinations[0].breaker.open_for: must be greater than zero",
				"destinations[0].breaker.probes: must be at least 1", "destinations[0].breaker.min_requests: must be at least 1"}},
		{destDoc("type: file", "path: ./a", "breaker: {failure_ratio: half}"), []string{`destinations[0].breaker.failure_ratio: want a number, got "half"`}},
		{destDoc("type: file", "path: ./a", "breaker: {consecutive_failures: 3, tripwire: 1}"), []string{"destinations[0].breaker.tripwire"}},
		{destDoc("type: file", "path: ./a", "breaker: {consecutive_failures: 3, on_open: drop}"), []string{`destinations[0].breaker.on_open: unknown value "drop"`}},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.yaml), envOf(nil), testOpts)
		if err == nil {
			t.Errorf("no error for\n%s", tt.yaml)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error does not contain\n  %q\ngot\n  %s", w, err)
			}
		}
	}
}
