package console

import (
	"math"
	"net"
	"net/http"
	"sync"
	"time"
)

// loginLimiter bounds login attempts per client address with a token
// bucket: burst attempts at once, refilled at burst per minute. It keys on
// the connection's address, never on X-Forwarded-For (which a client
// sets): behind a proxy every client shares the proxy's bucket, which
// errs on the side of refusing.
type loginLimiter struct {
	mu      sync.Mutex
	burst   float64
	per     time.Duration // time to refill the whole bucket
	max     int           // addresses tracked at once
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLoginLimiter(perMinute, maxAddrs int) *loginLimiter {
	return &loginLimiter{burst: float64(perMinute), per: time.Minute, max: maxAddrs, buckets: map[string]*bucket{}}
}

// allow takes one attempt from addr's bucket at now. When the bucket is
// empty it answers false and how long until the next attempt is allowed.
func (l *loginLimiter) allow(addr string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[addr]
	if b == nil {
		if len(l.buckets) >= l.max {
			l.prune(now)
		}
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[addr] = b
	}
	rate := l.burst / l.per.Seconds() // tokens per second
	if dt := now.Sub(b.at).Seconds(); dt > 0 {
		b.tokens = math.Min(l.burst, b.tokens+dt*rate)
	}
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / rate * float64(time.Second))
	return false, wait
}

// prune drops the buckets that have refilled (they hold no memory worth
// keeping); if every address is still limited, it drops the one idle
// longest, so the map stays bounded.
func (l *loginLimiter) prune(now time.Time) {
	var oldest string
	for addr, b := range l.buckets {
		if now.Sub(b.at) >= l.per {
			delete(l.buckets, addr)
			continue
		}
		if oldest == "" || b.at.Before(l.buckets[oldest].at) {
			oldest = addr
		}
	}
	if len(l.buckets) >= l.max && oldest != "" {
		delete(l.buckets, oldest)
	}
}

// clientAddr is the host part of the connection's remote address.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
