package config

import (
	"testing"
)

// TestProviderKeys covers the provider-specific keys of square
// (notification_url), adyen (basic_auth) and paypal (the paypal block).
func TestProviderKeys(t *testing.T) {
	ok := []sourceOK{
		{"square", oneSource("    provider: square", "    secrets: [k]", "    notification_url: https://hooks.example.com/ingest/s"),
			Source{Name: "s", Provider: "square", Secrets: []string{"k"}, NotificationURL: "https://hooks.example.com/ingest/s"}},
		{"adyen", oneSource("    provider: adyen", "    secrets: [AB12]", "    basic_auth:", "      username: adyen", "      password: ${PW}"),
			Source{Name: "s", Provider: "adyen", Secrets: []string{"AB12"}, BasicAuth: &BasicAuth{Username: "adyen", Password: "pw-value"}}},
		{"paypal cert", oneSource("    provider: paypal", "    paypal: {webhook_id: 8PT597110X687430L}"),
			Source{Name: "s", Provider: "paypal", PayPal: &PayPal{WebhookID: "8PT597110X687430L"}}},
		{"paypal cert hosts", oneSource("    provider: paypal", "    paypal:", "      webhook_id: W", "      mode: cert",
			"      cert_hosts: [api.paypal.com, 'certs.example.com:8443', '[::1]:8443']"),
			Source{Name: "s", Provider: "paypal", PayPal: &PayPal{WebhookID: "W", Mode: "cert",
				CertHosts: []string{"api.paypal.com", "certs.example.com:8443", "[::1]:8443"}}}},
		{"paypal api", oneSource("    provider: paypal", "    paypal:", "      webhook_id: W", "      mode: api",
			"      api_base_url: https://api-m.sandbox.paypal.com", "      client_id: cid", "      client_secret: ${PW}"),
			Source{Name: "s", Provider: "paypal", PayPal: &PayPal{WebhookID: "W", Mode: "api",
				APIBaseURL: "https://api-m.sandbox.paypal.com", ClientID: "cid", ClientSecret: "pw-value"}}},
		{"paypal api on loopback", oneSource("    provider: paypal", "    paypal: {webhook_id: W, mode: api, client_id: c, client_secret: s, api_base_url: 'http://127.0.0.1:9000'}"),
			Source{Name: "s", Provider: "paypal", PayPal: &PayPal{WebhookID: "W", Mode: "api",
				APIBaseURL: "http://127.0.0.1:9000", ClientID: "c", ClientSecret: "s"}}},
	}
	getenv := func(string) string { return "pw-value" }
	bad := []sourceBad{
		{"square url required", oneSource("    provider: square", "    secrets: [k]"),
			"config line 2: sources[0].notification_url: is required for provider square"},
		{"square url relative", oneSource("    provider: square", "    secrets: [k]", "    notification_url: /ingest/s"),
			"sources[0].notification_url: must be an absolute http:// or https:// URL"},
		{"adyen basic_auth fields", oneSource("    provider: adyen", "    secrets: [k]", "    basic_auth: {username: u}"),
			"sources[0].basic_auth.password: is required"},
		{"basic_auth on shopify", oneSource("    provider: shopify", "    secrets: [k]", "    basic_auth: {username: u, password: p}"),
			"sources[0].basic_auth: is only used by providers basic, adyen"},
		{"paypal block required", oneSource("    provider: paypal"),
			"config line 2: sources[0].paypal: is required for provider paypal (at least paypal.webhook_id)"},
		{"paypal secrets", oneSource("    provider: paypal", "    secrets: [x]", "    paypal: {webhook_id: W}"),
			"sources[0].secrets: must be empty for provider paypal"},
		{"paypal on stripe", oneSource("    provider: stripe", "    secrets: [x]", "    paypal: {webhook_id: W}"),
			"config line 5: sources[0].paypal: is only used by provider paypal"},
		{"webhook id", oneSource("    provider: paypal", "    paypal: {mode: cert}"),
			"sources[0].paypal.webhook_id: is required"},
		{"mode", oneSource("    provider: paypal", "    paypal: {webhook_id: W, mode: offline}"),
			`sources[0].paypal.mode: unknown mode "offline" (want cert or api)`},
		{"api needs client id", oneSource("    provider: paypal", "    paypal: {webhook_id: W, mode: api, client_secret: s}"),
			"sources[0].paypal.client_id: is required for mode api"},
		{"api needs client secret", oneSource("    provider: paypal", "    paypal: {webhook_id: W, mode: api, client_id: c}"),
			"sources[0].paypal.client_secret: is required for mode api"},
		{"api with cert hosts", oneSource("    provider: paypal", "    paypal: {webhook_id: W, mode: api, client_id: c, client_secret: s, cert_hosts: [a.example]}"),
			"sources[0].paypal.cert_hosts: is only used by mode cert"},
		{"api base not https", oneSource("    provider: paypal", "    paypal: {webhook_id: W, mode: api, client_id: c, client_secret: s, api_base_url: 'http://api.example.com'}"),
			"sources[0].paypal.api_base_url: must use https://"},
		{"api base relative", oneSource("    provider: paypal", "    paypal: {webhook_id: W, mode: api, client_id: c, client_secret: s, api_base_url: api.example.com}"),
			"sources[0].paypal.api_base_url: must be an absolute https:// URL"},
		{"cert with client id", oneSource("    provider: paypal", "    paypal: {webhook_id: W, client_id: c}"),
			"sources[0].paypal.client_id: is only used by mode api"},
		{"cert host with scheme", oneSource("    provider: paypal", "    paypal: {webhook_id: W, cert_hosts: ['https://api.paypal.com']}"),
			`sources[0].paypal.cert_hosts[0]: "https://api.paypal.com" is not a host name or host:port`},
		{"cert host with path", oneSource("    provider: paypal", "    paypal: {webhook_id: W, cert_hosts: ['api.paypal.com/v1']}"),
			"sources[0].paypal.cert_hosts[0]"},
		{"unknown paypal key", oneSource("    provider: paypal", "    paypal: {webhook_id: W, secret: x}"),
			"sources[0].paypal.secret: unknown key (want one of webhook_id, mode, cert_hosts, api_base_url, client_id, client_secret)"},
	}
	checkSources(t, getenv, Options{}, "pw-value", ok, bad)
}
