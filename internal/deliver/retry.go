package deliver

import (
	"cmp"
	"math"
	"time"

	"github.com/hookyard/hookyard/internal/config"
)

// Default retry policy, used for every field a destination leaves unset.
//
// With these values the expected retry window — the sum of the 49 waits
// between 50 attempts, Policy.Window(0.5) — is about 4.7 days (113.7h): the
// first 13 waits grow from 5s towards the cap, and the remaining 36 average
// (5s+6h)/2 ≈ 3h each. Providers such as Stripe retry for three days, so a
// gateway must keep trying at least as long. Each wait is drawn
// independently, so the real window concentrates around that mean with a
// standard deviation of about 10.5h; three days lies four standard
// deviations below it. The window is a statistical property, not a floor:
// every draw at rnd=0 would give 49×5s, and about 1 in 37,000 exhausted
// deliveries gives up before three days (TestPolicyWindowSampled).
const (
	DefaultMaxAttempts = 50
	DefaultInitial     = 5 * time.Second
	DefaultMax         = 6 * time.Hour
)

// Policy is a retry schedule: exponential backoff with full jitter between
// the initial interval and an exponential ceiling capped at Max. It is a
// pure value; the caller supplies the random number so schedules are
// testable and the worker owns its random source and clock.
type Policy struct {
	MaxAttempts int           // attempts in one budget, including the first; < 1 means 1
	Initial     time.Duration // the shortest wait, and the base of the exponent
	Max         time.Duration // cap on the ceiling; below Initial means Initial
}

// NewPolicy returns the policy configured for a destination, with the
// defaults filled in for unset (zero) fields.
func NewPolicy(r config.Retry) Policy {
	return Policy{
		MaxAttempts: cmp.Or(r.MaxAttempts, DefaultMaxAttempts),
		Initial:     cmp.Or(r.InitialInterval.D(), DefaultInitial),
		Max:         cmp.Or(r.MaxInterval.D(), DefaultMax),
	}
}

// Next returns the wait before the next try after attempt failed attempts
// (attempt ≥ 1; smaller values count as 1). The ceiling is
// min(Max, Initial·2^(attempt-1)), computed without overflow, and the wait
// is Initial + rnd·(ceiling−Initial). rnd is a uniform random number in
// [0,1); values outside [0,1] are clamped, and the result never exceeds the
// ceiling.
func (p Policy) Next(attempt int, rnd float64) time.Duration {
	initial := max(p.Initial, 0)
	ceiling := max(p.Max, initial)
	if shift := max(attempt, 1) - 1; shift < 63 && initial <= ceiling>>shift {
		// initial<<shift ≤ ceiling, so the shift cannot overflow.
		ceiling = initial << shift
	}

	if !(rnd > 0) { // also catches NaN
		return initial
	}
	span := ceiling - initial
	jitter := math.Round(min(rnd, 1) * float64(span))
	if jitter >= float64(span) {
		// float64(span) may round above MaxInt64; never convert it back.
		return ceiling
	}
	return initial + time.Duration(jitter)
}

// Exhausted reports whether a delivery that has used attempts attempts of
// its budget may not be tried again.
func (p Policy) Exhausted(attempts int) bool {
	return attempts >= max(p.MaxAttempts, 1)
}

// Window returns the time between the first and the last attempt of a full
// budget if every wait were drawn with the same rnd: the sum of Next over
// the MaxAttempts−1 failures that precede the last attempt. Window(0.5) is
// the expected window. It saturates instead of overflowing.
func (p Policy) Window(rnd float64) time.Duration {
	var total time.Duration
	for a := 1; a < p.MaxAttempts; a++ {
		d := p.Next(a, rnd)
		if total > math.MaxInt64-d {
			return math.MaxInt64
		}
		total += d
	}
	return total
}
