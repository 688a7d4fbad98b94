package config

import (
	"strings"
	"testing"
)

func TestFrontDoorKeys(t *testing.T) {
	base := `sources:
  - name: shop
    provider: shopify
    secrets: [s1]
`
	tests := []struct {
		name, extra, want string
	}{
		{"bad cidr", "    allow_ips: [10.0.0.0/33]\n", "config line 5: sources[0].allow_ips[0]: \"10.0.0.0/33\" is not a CIDR"},
		{"bad address", "    trusted_proxies: [nope]\n", "config line 5: sources[0].trusted_proxies[0]: \"nope\" is neither an address nor a CIDR"},
		{"bad rate", "    rate_limit: fast\n", "config line 5: sources[0].rate_limit: \"fast\": want a rate"},
		{"bad rate unit", "    rate_limit: 5/d\n", "sources[0].rate_limit: \"5/d\": the unit must be s, m or h"},
		{"negative burst", "    rate_burst: -1\n", "sources[0].rate_burst: must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(base+tt.extra), nil, Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	cfg, err := Parse([]byte(base+"    allow_ips: [192.0.2.0/24, 2001:db8::1]\n    rate_limit: 6000/m\n    schemas: {\"orders/create\": order.json}\nserver:\n  max_json_depth: 32\n  tls: {cert_file: c.pem, key_file: k.pem}\n"), nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := ParseRate(cfg.Sources[0].RateLimit); r != 100 {
		t.Errorf("6000/m = %v/s, want 100", r)
	}
	if p, _ := ParsePrefix("2001:db8::1"); p.Bits() != 128 {
		t.Errorf("single v6 address = %v", p)
	}
	if cfg.Server.MaxJSONDepth != 32 || cfg.Server.MaxInFlight != 1024 || cfg.Server.TLS.CertFile != "c.pem" {
		t.Errorf("server = %+v", cfg.Server)
	}
	if _, err := Parse([]byte("server:\n  tls: {cert_file: c.pem}\n"), nil, Options{}); err == nil || !strings.Contains(err.Error(), "server.tls.key_file: is required") {
		t.Errorf("missing key file: %v", err)
	}
}
