package deliver

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/config"
)

var defaultPolicy = Policy{MaxAttempts: DefaultMaxAttempts, Initial: DefaultInitial, Max: DefaultMax}

func TestPolicyNext(t *testing.T) {
	huge := Policy{MaxAttempts: 200, Initial: time.Nanosecond, Max: math.MaxInt64}
	tests := []struct {
		name    string
		p       Policy
		attempt int
		rnd     float64
		want    time.Duration
	}{
		{"first retry waits initial", defaultPolicy, 1, 0.5, 5 * time.Second},
		{"first retry rnd .999", defaultPolicy, 1, 0.999, 5 * time.Second},
		{"second rnd 0", defaultPolicy, 2, 0, 5 * time.Second},
		{"second rnd .5", defaultPolicy, 2, 0.5, 7500 * time.Millisecond},
		{"second rnd .999", defaultPolicy, 2, 0.999, 9995 * time.Millisecond},
		{"third rnd .5", defaultPolicy, 3, 0.5, 12500 * time.Millisecond},
		{"last uncapped (5s·2^12) rnd .5", defaultPolicy, 13, 0.5, 10242500 * time.Millisecond},
		{"last uncapped rnd .999", defaultPolicy, 13, 0.999, 5*time.Second + 20454525*time.Millisecond},
		{"first capped rnd 0", defaultPolicy, 14, 0, 5 * time.Second},
		{"first capped rnd .5", defaultPolicy, 14, 0.5, 10802500 * time.Millisecond},
		{"first capped rnd .999", defaultPolicy, 14, 0.999, 5*time.Second + 21573405*time.Millisecond},
		{"attempt 49 capped", defaultPolicy, 49, 0.5, 10802500 * time.Millisecond},
		{"rnd 1 reaches the cap", defaultPolicy, 20, 1, 6 * time.Hour},
		{"attempt 100 does not overflow", defaultPolicy, 100, 0.999, 5*time.Second + 21573405*time.Millisecond},
		{"attempt MaxInt does not overflow", defaultPolicy, math.MaxInt, 0.5, 10802500 * time.Millisecond},
		{"shift 62 is exact", huge, 63, 1, 1 << 62},
		{"shift 63 takes the cap", huge, 64, 1, math.MaxInt64},
		{"attempt 100 uncapped max, rnd 1", huge, 100, 1, math.MaxInt64},
		{"attempt 100 uncapped max, rnd 0", huge, 100, 0, time.Nanosecond},
		{"attempt 0 counts as 1", defaultPolicy, 0, 0.999, 5 * time.Second},
		{"negative attempt counts as 1", defaultPolicy, -3, 0.999, 5 * time.Second},
		{"negative rnd clamps to 0", defaultPolicy, 5, -1, 5 * time.Second},
		{"NaN rnd clamps to 0", defaultPolicy, 5, math.NaN(), 5 * time.Second},
		{"rnd above 1 clamps to 1", defaultPolicy, 5, 7, 80 * time.Second},
		{"max below initial means initial", Policy{Initial: 10 * time.Second, Max: 5 * time.Second}, 9, 0.5, 10 * time.Second},
		{"zero policy never waits", Policy{}, 7, 0.5, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.Next(tt.attempt, tt.rnd); got != tt.want {
				t.Errorf("Next(%d, %v) = %v (%d), want %v (%d)", tt.attempt, tt.rnd, got, int64(got), tt.want, int64(tt.want))
			}
		})
	}
}

// TestPolicyNextBounds checks that every wait lies in [Initial, ceiling]
// for a sweep of attempts and random numbers.
func TestPolicyNextBounds(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for attempt := 1; attempt <= 100; attempt++ {
		for range 100 {
			d := defaultPolicy.Next(attempt, r.Float64())
			if d < DefaultInitial || d > DefaultMax {
				t.Fatalf("Next(%d) = %v, outside [%v, %v]", attempt, d, DefaultInitial, DefaultMax)
			}
		}
	}
}

func TestPolicyExhausted(t *testing.T) {
	tests := []struct {
		max, attempts int
		want          bool
	}{
		{50, 0, false},
		{50, 49, false},
		{50, 50, true},
		{50, 51, true},
		{1, 1, true},
		{0, 0, false}, // a budget of at least one attempt
		{0, 1, true},
		{-5, 1, true},
	}
	for _, tt := range tests {
		if got := (Policy{MaxAttempts: tt.max}).Exhausted(tt.attempts); got != tt.want {
			t.Errorf("Policy{MaxAttempts: %d}.Exhausted(%d) = %v, want %v", tt.max, tt.attempts, got, tt.want)
		}
	}
}

// TestPolicyWindow checks the promise in the doc comment of DefaultMaxAttempts:
// the expected window of the default policy exceeds three days.
func TestPolicyWindow(t *testing.T) {
	const threeDays = 72 * time.Hour
	// 13 growing waits sum to 20510s, 36 capped waits of 10802.5s to 388890s.
	if got, want := defaultPolicy.Window(0.5), 409400*time.Second; got != want {
		t.Errorf("Window(0.5) = %v, want %v", got, want)
	}
	if got := defaultPolicy.Window(0.5); got <= threeDays {
		t.Errorf("expected window %v does not exceed three days", got)
	}
	// The window is statistical: all-zero draws give only 49 initial waits.
	if got, want := defaultPolicy.Window(0), 49*5*time.Second; got != want {
		t.Errorf("Window(0) = %v, want %v", got, want)
	}
	if got := (Policy{MaxAttempts: 1, Initial: time.Second, Max: time.Hour}).Window(0.5); got != 0 {
		t.Errorf("one attempt: Window = %v, want 0", got)
	}
	if got := (Policy{MaxAttempts: 200, Initial: time.Hour, Max: math.MaxInt64}).Window(0.5); got != math.MaxInt64 {
		t.Errorf("Window saturates: got %v", got)
	}
}

// TestPolicyWindowSampled draws independent waits, as the worker does, and
// checks how rarely the default policy gives up within three days: the
// expected share is about 1 in 37,000, so with a fixed seed a handful of
// 100,000 runs may fall short, never more than 1 in 10,000.
func TestPolicyWindowSampled(t *testing.T) {
	const runs = 100000
	r := rand.New(rand.NewPCG(2024, 3))
	short := 0
	var hours float64 // a Duration sum of 100,000 windows would overflow
	for range runs {
		var total time.Duration
		for a := 1; a < defaultPolicy.MaxAttempts; a++ {
			total += defaultPolicy.Next(a, r.Float64())
		}
		hours += total.Hours()
		if total <= 72*time.Hour {
			short++
		}
	}
	if short > runs/10000 {
		t.Errorf("%d of %d sampled windows end within three days", short, runs)
	}
	if mean := hours / runs; mean < 112 || mean > 115.5 {
		t.Errorf("mean sampled window %.1fh, want about 113.7h", mean)
	}
}

func TestNewPolicy(t *testing.T) {
	if got := NewPolicy(config.Retry{}); got != defaultPolicy {
		t.Errorf("NewPolicy(zero) = %+v, want %+v", got, defaultPolicy)
	}
	want := Policy{MaxAttempts: 3, Initial: time.Second, Max: time.Minute}
	got := NewPolicy(config.Retry{
		MaxAttempts:     3,
		InitialInterval: config.Duration(time.Second),
		MaxInterval:     config.Duration(time.Minute),
	})
	if got != want {
		t.Errorf("NewPolicy = %+v, want %+v", got, want)
	}
}
