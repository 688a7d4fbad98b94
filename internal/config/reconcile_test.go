package config

import (
	"testing"
	"time"
)

func TestReconcileConfig(t *testing.T) {
	stripe := []string{"    provider: stripe", "    secrets: [whsec_x]"}
	with := func(base []string, lines ...string) string {
		return oneSource(append(append([]string{}, base...), lines...)...)
	}
	ok := []sourceOK{
		{"stripe", with(stripe, "    reconcile:", "      every: 15m", "      lookback: 6h", "      backfill: true",
			"      api: {base_url: 'https://api.stripe.com', token: rk_test}"),
			Source{Name: "s", Provider: "stripe", Secrets: []string{"whsec_x"}, Reconcile: &Reconcile{
				Every: Duration(15 * time.Minute), Lookback: Duration(6 * time.Hour), Backfill: true,
				API: ReconcileAPI{BaseURL: "https://api.stripe.com", Token: "rk_test"}}}},
		{"settle", with(stripe, "    reconcile:", "      settle: 2m", "      api: {token: k}"),
			Source{Name: "s", Provider: "stripe", Secrets: []string{"whsec_x"}, Reconcile: &Reconcile{
				Settle: ptrDuration(2 * time.Minute), API: ReconcileAPI{Token: "k"}}}},
		{"github org redeliver", oneSource("    provider: github", "    secrets: [g]", "    reconcile:",
			"      redeliver: true", "      api: {token: t, org: acme, hook_id: 7}"),
			Source{Name: "s", Provider: "github", Secrets: []string{"g"}, Reconcile: &Reconcile{Redeliver: true,
				API: ReconcileAPI{Token: "t", Org: "acme", HookID: 7}}}},
		{"generic on hmac", oneSource("    provider: hmac", "    secrets: [k]", "    hmac: {header: X-Sig, id_header: X-Id}",
			"    reconcile:", "      api: {url: 'https://api.example/events?from={since}&c={cursor}', items: '.data[]', id: .id, next: .next}"),
			Source{Name: "s", Provider: "hmac", Secrets: []string{"k"},
				HMAC: &HMAC{Algorithm: "sha256", Encoding: "hex", Header: "X-Sig", Content: "{body}", IDHeader: "X-Id"},
				Reconcile: &Reconcile{API: ReconcileAPI{URL: "https://api.example/events?from={since}&c={cursor}",
					Items: ".data[]", ID: ".id", Next: ".next"}}}},
	}
	bad := []sourceBad{
		{"stripe token", with(stripe, "    reconcile:", "      backfill: true", "      api: {}"),
			"config line 7: sources[0].reconcile.api.token: is required: a secret or restricted key"},
		{"unknown key", with(stripe, "    reconcile:", "      evry: 1m"),
			"config line 6: sources[0].reconcile.evry: unknown key"},
		{"lookback shorter than every", with(stripe, "    reconcile:", "      every: 1h", "      lookback: 30m", "      api: {token: k}"),
			"config line 7: sources[0].reconcile.lookback: must be at least every (1h0m0s)"},
		{"zero every", with(stripe, "    reconcile:", "      every: 0s", "      api: {token: k}"),
			"config line 6: sources[0].reconcile.every: must be greater than zero"},
		{"no built-in reconciler", oneSource("    provider: paddle", "    secrets: [k]", "    reconcile:", "      api: {token: k}"),
			"sources[0].reconcile.api.url: is required for provider paddle, which has no built-in reconciler"},
		{"redeliver stripe", with(stripe, "    reconcile:", "      redeliver: true", "      api: {token: k}"),
			"config line 6: sources[0].reconcile.redeliver: is only supported for provider github"},
		{"github repo and org", oneSource("    provider: github", "    secrets: [g]", "    reconcile:",
			"      api: {token: t, repo: a/b, org: acme, hook_id: 1}"),
			"sources[0].reconcile.api.repo: give exactly one of repo (owner/name) or org"},
		{"github hook id", oneSource("    provider: github", "    secrets: [g]", "    reconcile:", "      api: {token: t, repo: a/b}"),
			"sources[0].reconcile.api.hook_id: is required"},
		{"shopify base url", oneSource("    provider: shopify", "    secrets: [k]", "    reconcile:", "      api: {token: shpat}"),
			"sources[0].reconcile.api.base_url: is required: the shop's URL"},
		{"shopify resource", oneSource("    provider: shopify", "    secrets: [k]", "    reconcile:",
			"      api: {token: shpat, base_url: 'https://s.myshopify.com', resources: [orders, refunds]}"),
			"sources[0].reconcile.api.resources[1]: must be orders, products or customers"},
		{"woocommerce token", oneSource("    provider: woocommerce", "    secrets: [k]", "    reconcile:",
			"      api: {token: ck_only, base_url: 'https://shop.example'}"),
			"sources[0].reconcile.api.token: must be consumer_key:consumer_secret"},
		{"generic bad jq", oneSource("    provider: hmac", "    secrets: [k]", "    hmac: {header: X-Sig}", "    reconcile:",
			"      api: {url: 'https://api.example/e', items: '.data[', id: .id}"),
			"sources[0].reconcile.api.items: is not a valid jq expression"},
		{"generic next without cursor", oneSource("    provider: hmac", "    secrets: [k]", "    hmac: {header: X-Sig}", "    reconcile:",
			"      api: {url: 'https://api.example/e', items: '.[]', id: .id, next: .n}"),
			"sources[0].reconcile.api.url: must contain {cursor} when next is set"},
		{"key of another provider", with(stripe, "    reconcile:", "      api: {token: k, hook_id: 3}"),
			"sources[0].reconcile.api.hook_id: is not used here"},
		{"graphql on stripe", with(stripe, "    reconcile:", "      api: {token: k, graphql: true}"),
			"config line 6: sources[0].reconcile.api.graphql: is only used by provider shopify"},
		{"relative base url", with(stripe, "    reconcile:", "      api: {token: k, base_url: /v1}"),
			"sources[0].reconcile.api.base_url: must be an absolute http:// or https:// URL"},
	}
	checkSources(t, nil, Options{}, "", ok, bad)
}

func ptrDuration(d time.Duration) *Duration { v := Duration(d); return &v }
