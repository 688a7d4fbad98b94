package ingest

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/hookyard/hookyard/internal/webhook"
)

// IPPolicy restricts which client addresses a source accepts.
type IPPolicy struct {
	// Allow lists the client networks accepted; empty accepts any.
	Allow []netip.Prefix
	// TrustedProxies are the networks whose X-Forwarded-For is believed:
	// the client is the right-most address not in this list.
	TrustedProxies []netip.Prefix
}

// clientIP returns the request's client address under p.
func (p *IPPolicy) clientIP(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	addr = addr.Unmap()
	if !contains(p.TrustedProxies, addr) {
		return addr
	}
	// Walk X-Forwarded-For from the nearest hop outwards, skipping our own
	// proxies; the first address that is not one of them is the client.
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return netip.Addr{} // a malformed chain is not trusted
		}
		a = a.Unmap()
		if !contains(p.TrustedProxies, a) {
			return a
		}
		addr = a
	}
	return addr
}

// allowed reports whether the request's client may post to the source.
func (p *IPPolicy) allowed(r *http.Request) (netip.Addr, bool) {
	a := p.clientIP(r)
	if len(p.Allow) == 0 {
		return a, true
	}
	return a, a.IsValid() && contains(p.Allow, a)
}

func contains(nets []netip.Prefix, a netip.Addr) bool {
	for _, n := range nets {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

// Limiter is a token bucket: Rate requests per second on average, up to
// Burst at once. It is safe for concurrent use.
type Limiter struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

// NewLimiter returns a full bucket.
func NewLimiter(perSecond float64, burst int) *Limiter {
	if burst < 1 {
		burst = max(1, int(math.Ceil(perSecond)))
	}
	return &Limiter{rate: perSecond, burst: float64(burst), tokens: float64(burst)}
}

// Allow takes a token at now, or reports how long until one is available.
func (l *Limiter) Allow(now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() {
		l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	}
	l.last = now
	if l.tokens >= 1 {
		l.tokens--
		return true, 0
	}
	wait := time.Duration((1 - l.tokens) / l.rate * float64(time.Second))
	return false, wait
}

// errUnsupportedEncoding is a Content-Encoding hookyard does not decode.
var errUnsupportedEncoding = errors.New("unsupported Content-Encoding")

// decode returns body decompressed per the request's Content-Encoding,
// never producing more than max bytes: a zip bomb costs at most max.
func decode(r *http.Request, body []byte, max int64) ([]byte, error) {
	enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
	switch enc {
	case "", "identity":
		return body, nil
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		out, err := io.ReadAll(io.LimitReader(zr, max+1))
		if err != nil {
			return nil, err
		}
		if int64(len(out)) > max {
			return nil, webhook.ErrTooLarge
		}
		return out, nil
	}
	return nil, errUnsupportedEncoding
}

// multipart reports whether the request claims a multipart body, which no
// provider sends and hookyard does not accept.
func multipart(r *http.Request) bool {
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Type"))), "multipart/")
}
