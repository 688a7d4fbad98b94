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
	"recharge":          rechargeProvider,
	"klaviyo":           klaviyoProvider,
	"mandrill":          mandrillProvider,
	"twilio":            twilioProvider,
	"sendgrid":          sendgridProvider,
	"slack":             slackProvider,
	"intercom":          intercomProvider,
	"easypost":          easypostProvider,
	"shipbob":           shipbobProvider,
	"adobe-commerce":    adobeCommerceProvider,
	"basic":             basicProvider,
	"token":             tokenProvider,
	"woocommerce":       wooCommerceProvider,
	"bigcommerce":       bigCommerceProvider,
	"square":            squareProvider,
	"paypal":            payPalProvider,
	"adyen":             adyenProvider,
	"adyen-platform":    adyenPlatformProvider,
	"zendesk":           zendeskProvider,
	"paddle":            paddleProvider,
	"lemonsqueezy":      lemonSqueezyProvider,
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
