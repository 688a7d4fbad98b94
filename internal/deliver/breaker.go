package deliver

import (
	"sync"
	"time"
)

// Breaker states, as reported by metrics (the gauge's value) and the API.
const (
	BreakerClosed   = 0
	BreakerHalfOpen = 1
	BreakerOpen     = 2
)

// BreakerName names a breaker state.
func BreakerName(s int) string {
	switch s {
	case BreakerOpen:
		return "open"
	case BreakerHalfOpen:
		return "half_open"
	}
	return "closed"
}

// BreakerConfig configures a destination's circuit breaker. The zero value
// disables it.
type BreakerConfig struct {
	// ConsecutiveFailures opens the breaker after this many failures in a
	// row; 0 does not use the rule.
	ConsecutiveFailures int
	// FailureRatio opens the breaker when at least this share of the
	// outcomes in the last Window failed, once MinRequests outcomes were
	// seen; 0 does not use the rule.
	FailureRatio float64
	Window       time.Duration // default 1m
	MinRequests  int           // default 20
	// OpenFor is how long the breaker stays open before a probe; default 30s.
	OpenFor time.Duration
	// Probes is how many successful probes in a row close it again; default 1.
	Probes int
}

// Enabled reports whether any opening rule is configured.
func (c BreakerConfig) Enabled() bool { return c.ConsecutiveFailures > 0 || c.FailureRatio > 0 }

// Breaker is one destination's circuit breaker: closed (deliveries flow),
// open (held, no attempts made, none used), half-open (one probe at a time;
// Probes successes close it, a failure opens it again). Time comes from
// the caller, so it is tested without sleeping. Safe for concurrent use.
type Breaker struct {
	cfg BreakerConfig

	mu          sync.Mutex
	state       int
	consecutive int
	buckets     []ratioBucket // ring of Window/10 buckets
	openUntil   time.Time
	probing     bool // a half-open probe is in flight
	probesOK    int
}

type ratioBucket struct {
	start         time.Time
	total, failed int
}

const ratioBuckets = 10

// NewBreaker returns a closed breaker with defaults filled in.
func NewBreaker(c BreakerConfig) *Breaker {
	if c.Window <= 0 {
		c.Window = time.Minute
	}
	if c.MinRequests <= 0 {
		c.MinRequests = 20
	}
	if c.OpenFor <= 0 {
		c.OpenFor = 30 * time.Second
	}
	if c.Probes <= 0 {
		c.Probes = 1
	}
	return &Breaker{cfg: c, buckets: make([]ratioBucket, ratioBuckets)}
}

// Allow says how many deliveries may be started now: -1 any number
// (closed), 1 a probe (half-open; the caller must Record its outcome), or
// 0 none, with the time until the breaker should be asked again.
func (b *Breaker) Allow(now time.Time) (n int, wait time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case BreakerClosed:
		return -1, 0
	case BreakerOpen:
		if now.Before(b.openUntil) {
			return 0, b.openUntil.Sub(now)
		}
		b.state, b.probesOK, b.probing = BreakerHalfOpen, 0, false
	}
	if b.probing {
		return 0, time.Second
	}
	b.probing = true
	return 1, 0
}

// Unprobe gives back a probe Allow granted but that was not used (no work
// was due).
func (b *Breaker) Unprobe() {
	b.mu.Lock()
	b.probing = false
	b.mu.Unlock()
}

// Record adds an attempt's outcome and returns the state before and after.
func (b *Breaker) Record(ok bool, now time.Time) (from, to int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	from = b.state
	switch b.state {
	case BreakerHalfOpen:
		b.probing = false
		if !ok {
			b.open(now)
			break
		}
		if b.probesOK++; b.probesOK >= b.cfg.Probes {
			b.reset()
		}
	case BreakerClosed:
		b.count(ok, now)
		if ok {
			b.consecutive = 0
			break
		}
		b.consecutive++
		if (b.cfg.ConsecutiveFailures > 0 && b.consecutive >= b.cfg.ConsecutiveFailures) || b.ratioTripped(now) {
			b.open(now)
		}
	}
	// Outcomes that arrive while open (sends started before it opened)
	// change nothing.
	return from, b.state
}

// Trip opens a closed breaker until `until` (another node opened it).
func (b *Breaker) Trip(until time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state != BreakerClosed {
		return false
	}
	b.state, b.openUntil = BreakerOpen, until
	return true
}

// Reset closes the breaker (the destination was re-enabled).
func (b *Breaker) Reset() {
	b.mu.Lock()
	b.reset()
	b.mu.Unlock()
}

// State returns the current state.
func (b *Breaker) State() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state
}

// OpenUntil returns when an open breaker lets a probe through.
func (b *Breaker) OpenUntil() time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.openUntil
}

func (b *Breaker) open(now time.Time) {
	b.state, b.openUntil, b.probing, b.probesOK = BreakerOpen, now.Add(b.cfg.OpenFor), false, 0
}

func (b *Breaker) reset() {
	b.state, b.consecutive, b.probing, b.probesOK = BreakerClosed, 0, false, 0
	clear(b.buckets)
}

// count adds an outcome to the sliding window's current bucket.
func (b *Breaker) count(ok bool, now time.Time) {
	width := b.cfg.Window / ratioBuckets
	start := now.Truncate(width)
	i := int(start.UnixNano()/int64(width)) % ratioBuckets
	if !b.buckets[i].start.Equal(start) {
		b.buckets[i] = ratioBucket{start: start}
	}
	b.buckets[i].total++
	if !ok {
		b.buckets[i].failed++
	}
}

func (b *Breaker) ratioTripped(now time.Time) bool {
	if b.cfg.FailureRatio <= 0 {
		return false
	}
	total, failed := 0, 0
	for _, k := range b.buckets {
		if now.Sub(k.start) < b.cfg.Window {
			total += k.total
			failed += k.failed
		}
	}
	return total >= b.cfg.MinRequests && float64(failed) >= b.cfg.FailureRatio*float64(total)
}
