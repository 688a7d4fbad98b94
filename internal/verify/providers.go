package verify

import (
	"maps"
	"slices"
)

// providers is every scheme by its config name. It is never modified.
var providers = map[string]Provider{
	"shopify":           shopifyProvider,
	"stripe":            stripeProvider,
	"github":            githubProvider,
	"standard-webhooks": standardWebhooksProvider,
	"hmac":              hmacProvider,
	"none":              noneProvider,
}

// Lookup returns the provider a source names (config.Source.Provider).
func Lookup(name string) (Provider, bool) {
	p, ok := providers[name]
	return p, ok
}

// Names returns the provider names in sorted order, for help and errors.
func Names() []string {
	return slices.Sorted(maps.Keys(providers))
}
