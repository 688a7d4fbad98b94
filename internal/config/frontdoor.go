package config

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

func (v *validator) frontDoorServer() {
	s := v.cfg.Server
	if s.MaxJSONDepth < 1 || s.MaxJSONDepth > 10000 {
		v.errorf("server.max_json_depth", "must be between 1 and 10000, got %d", s.MaxJSONDepth)
	}
	if s.MaxInFlight < 1 {
		v.errorf("server.max_in_flight", "must be at least 1, got %d", s.MaxInFlight)
	}
	if t := s.TLS; t != nil {
		if t.CertFile == "" {
			v.errorf("server.tls.cert_file", "is required when server.tls is set")
		}
		if t.KeyFile == "" {
			v.errorf("server.tls.key_file", "is required when server.tls is set")
		}
	}
}

func (v *validator) frontDoorSource(p string, s *Source) {
	for j, c := range s.AllowIPs {
		if _, err := ParsePrefix(c); err != nil {
			v.errorf(fmt.Sprintf("%s.allow_ips[%d]", p, j), "%v", err)
		}
	}
	for j, c := range s.TrustedProxies {
		if _, err := ParsePrefix(c); err != nil {
			v.errorf(fmt.Sprintf("%s.trusted_proxies[%d]", p, j), "%v", err)
		}
	}
	if s.RateLimit != "" {
		if _, err := ParseRate(s.RateLimit); err != nil {
			v.errorf(p+".rate_limit", "%v", err)
		}
	}
	if s.RateBurst < 0 {
		v.errorf(p+".rate_burst", "must not be negative, got %d", s.RateBurst)
	}
	for topic, file := range s.Schemas {
		if topic == "" || file == "" {
			v.errorf(p+".schemas", `maps a topic (or "*") to a JSON Schema file; both must be non-empty`)
		}
	}
}

// ParsePrefix parses a CIDR ("10.0.0.0/8") or a single address ("192.0.2.7").
func ParsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not a CIDR (e.g. 192.0.2.0/24)", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is neither an address nor a CIDR", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// ParseRate parses "N/s", "N/m" or "N/h" into events per second.
func ParseRate(s string) (float64, error) {
	num, unit, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return 0, fmt.Errorf("%q: want a rate such as 100/s, 6000/m or 1000/h", s)
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q: the count must be a positive number", s)
	}
	per := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour}[strings.TrimSpace(unit)]
	if per == 0 {
		return 0, fmt.Errorf("%q: the unit must be s, m or h", s)
	}
	return n / per.Seconds(), nil
}
