package config

import (
	"reflect"
	"strings"
	"testing"
)

// TestProviderKeys covers the provider-specific keys of square
// (notification_url), adyen (basic_auth) and paypal (the paypal block).
func TestProviderKeys(t *testing.T) {
	src := func(lines ...string) string {
		return doc(append([]string{"sources:", "  - name: s"}, lines...)...)
	}
	ok := []struct {
		name string
		yaml string
		want Source
	}{
		{"square", src("    provider: square", "    secrets: [k]", "    notification_url: https://hooks.example.com/ingest/s"),
			Source{Name: "s", Provider: "square", Secrets: []string{"k"}, NotificationURL: "https://hooks.example.com/ingest/s"}},
		{"adyen", src("    provider: adyen", "    secrets: [AB12]", "    basic_auth:", "      username: adyen", "      password: ${PW}"),
			Source{Name: "s", Provider: "adyen", Secrets: []string{"AB12"}, BasicAuth: &BasicAuth{Username: "adyen", Password: "pw-value"}}},
		{"paypal cert", src("    provider: paypal", "    paypal: {webhook_id: 8PT597110X687430L}"),
			Source{Name: "s", Provider: "paypal", PayPal: &PayPal{WebhookID: "8PT597110X687430L"}}},
		{"paypal cert hosts", src("    provider: paypal", "    paypal:", "      webhook_id: W", "      mode: cert",
			"      cert_hosts: [api.paypal.com, 'certs.example.com:8443', '[::1]:8443']"),
			Source{Name: "s", Provider: "paypal", PayPal: &PayPal{WebhookID: "W", Mode: "cert",
				CertHosts: []string{"api.paypal.com", "certs.example.com:8443", "[::1]:8443"}}}},
		{"paypal api", src("    provider: paypal", "    paypal:", "      webhook_id: W", "      mode: api",
			"      api_base_url: https://api-m.sandbox.paypal.com", "      client_id: cid", "      client_secret: ${PW}"),
			Source{Name: "s", Provider: "paypal", PayPal: &PayPal{WebhookID: "W", Mode: "api",
				APIBaseURL: "https://api-m.sandbox.paypal.com", ClientID: "cid", ClientSecret: "pw-value"}}},
		{"paypal api on loopback", src("    provider: paypal", "    paypal: {webhook_id: W, mode: api, client_id: c, client_secret: s, api_base_url: 'http://127.0.0.1:9000'}"),
			Source{Name: "s", Provider: "paypal", PayPal: &PayPal{WebhookID: "W", Mode: "api",
				APIBaseURL: "http://127.0.0.1:9000", ClientID: "c", ClientSecret: "s"}}},
	}
	getenv := func(string) string { return "pw-value" }
	for _, tt := range ok {
		cfg, err := Parse([]byte(tt.yaml), getenv, Options{})
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := cfg.Sources[0]; !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
		}
	}

	bad := []struct {
		name string
		yaml string
		want string
	}{
		{"square url required", src("    provider: square", "    secrets: [k]"),
			"config line 2: sources[0].notification_url: is required for provider square"},
		{"square url relative", src("    provider: square", "    secrets: [k]", "    notification_url: /ingest/s"),
			"sources[0].notification_url: must be an absolute http:// or https:// URL"},
		{"adyen basic_auth fields", src("    provider: adyen", "    secrets: [k]", "    basic_auth: {username: u}"),
			"sources[0].basic_auth.password: is required"},
		{"basic_auth on shopify", src("    provider: shopify", "    secrets: [k]", "    basic_auth: {username: u, password: p}"),
			"sources[0].basic_auth: is only used by providers basic, adyen"},
		{"paypal block required", src("    provider: paypal"),
			"config line 2: sources[0].paypal: is required for provider paypal (at least paypal.webhook_id)"},
		{"paypal secrets", src("    provider: paypal", "    secrets: [x]", "    paypal: {webhook_id: W}"),
			"sources[0].secrets: must be empty for provider paypal"},
		{"paypal on stripe", src("    provider: stripe", "    secrets: [x]", "    paypal: {webhook_id: W}"),
			"config line 5: sources[0].paypal: is only used by provider paypal"},
		{"webhook id", src("    provider: paypal", "    paypal: {mode: cert}"),
			"sources[0].paypal.webhook_id: is required"},
		{"mode", src("    provider: paypal", "    paypal: {webhook_id: W, mode: offline}"),
			`sources[0].paypal.mode: unknown mode "offline" (want cert or api)`},
		{"api needs client id", src("    provider: paypal", "    paypal: {webhook_id: W, mode: api, client_secret: s}"),
			"sources[0].paypal.client_id: is required for mode api"},
		{"api needs client secret", src("    provider: paypal", "    paypal: {webhook_id: W, mode: api, client_id: c}"),
			"sources[0].paypal.client_secret: is required for mode api"},
		{"api with cert hosts", src("    provider: paypal", "    paypal: {webhook_id: W, mode: api, client_id: c, client_secret: s, cert_hosts: [a.example]}"),
			"sources[0].paypal.cert_hosts: is only used by mode cert"},
		{"api base not https", src("    provider: paypal", "    paypal: {webhook_id: W, mode: api, client_id: c, client_secret: s, api_base_url: 'http://api.example.com'}"),
			"sources[0].paypal.api_base_url: must use https://"},
		{"api base relative", src("    provider: paypal", "    paypal: {webhook_id: W, mode: api, client_id: c, client_secret: s, api_base_url: api.example.com}"),
			"sources[0].paypal.api_base_url: must be an absolute https:// URL"},
		{"cert with client id", src("    provider: paypal", "    paypal: {webhook_id: W, client_id: c}"),
			"sources[0].paypal.client_id: is only used by mode api"},
		{"cert host with scheme", src("    provider: paypal", "    paypal: {webhook_id: W, cert_hosts: ['https://api.paypal.com']}"),
			`sources[0].paypal.cert_hosts[0]: "https://api.paypal.com" is not a host name or host:port`},
		{"cert host with path", src("    provider: paypal", "    paypal: {webhook_id: W, cert_hosts: ['api.paypal.com/v1']}"),
			"sources[0].paypal.cert_hosts[0]"},
		{"unknown paypal key", src("    provider: paypal", "    paypal: {webhook_id: W, secret: x}"),
			"sources[0].paypal.secret: unknown key (want one of webhook_id, mode, cert_hosts, api_base_url, client_id, client_secret)"},
	}
	for _, tt := range bad {
		_, err := Parse([]byte(tt.yaml), getenv, Options{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error containing %q", tt.name, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "pw-value") {
			t.Errorf("%s: %v quotes a value from the environment", tt.name, err)
		}
	}
}
