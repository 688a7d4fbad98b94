package ingest

import (
	"net/http"
	"net/netip"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	l := NewLimiter(2, 3) // 2/s, burst 3
	t0 := time.Unix(1_800_000_000, 0)
	for i := 0; i < 3; i++ {
		if ok, _ := l.Allow(t0); !ok {
			t.Fatalf("request %d within the burst refused", i)
		}
	}
	ok, wait := l.Allow(t0)
	if ok || wait != 500*time.Millisecond {
		t.Fatalf("over the burst: ok=%v wait=%v, want refused with 500ms", ok, wait)
	}
	if ok, _ := l.Allow(t0.Add(500 * time.Millisecond)); !ok {
		t.Fatal("a token did not refill after 1/rate")
	}
	if ok, _ := l.Allow(t0.Add(time.Hour)); !ok {
		t.Fatal("refused after a long idle")
	}
}

func TestClientIP(t *testing.T) {
	p := &IPPolicy{
		Allow:          []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")},
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
	}
	tests := []struct {
		remote, xff string
		want        string
		allowed     bool
	}{
		{"198.51.100.7:4000", "", "198.51.100.7", true},
		{"203.0.113.1:4000", "198.51.100.7", "203.0.113.1", false}, // untrusted peer: XFF ignored
		{"10.1.2.3:4000", "198.51.100.7", "198.51.100.7", true},
		{"10.1.2.3:4000", "198.51.100.7, 10.9.9.9", "198.51.100.7", true}, // skips our own proxies
		{"10.1.2.3:4000", "198.51.100.7, 203.0.113.5", "203.0.113.5", false},
		{"10.1.2.3:4000", "garbage", "invalid IP", false},
		{"[::ffff:198.51.100.9]:4000", "", "198.51.100.9", true}, // IPv4-mapped
	}
	for _, tt := range tests {
		r := &http.Request{RemoteAddr: tt.remote, Header: http.Header{}}
		if tt.xff != "" {
			r.Header.Set("X-Forwarded-For", tt.xff)
		}
		got, ok := p.allowed(r)
		if got.String() != tt.want || ok != tt.allowed {
			t.Errorf("remote %s xff %q: %s %v, want %s %v", tt.remote, tt.xff, got, ok, tt.want, tt.allowed)
		}
	}
}
