package config

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/itchyny/gojq"
)

// Reconcile schedules comparisons of a source's received events with its
// provider's API, and backfills what never arrived.
type Reconcile struct {
	// Every is the schedule; default 15m. Lookback is the window compared
	// on each run (overlapping windows are fine); default 6h, at least
	// Every.
	Every    Duration `yaml:"every"`
	Lookback Duration `yaml:"lookback"`
	// Settle is how long the provider may take to deliver normally: each
	// window ends this long before the run starts; nil (absent) means 5m.
	Settle *Duration `yaml:"settle,omitempty"`
	// Backfill stores missing events through the normal pipeline; false
	// only reports them.
	Backfill bool `yaml:"backfill"`
	// Redeliver (GitHub only) asks the provider to send missing deliveries
	// again instead of building them from the API.
	Redeliver bool `yaml:"redeliver,omitempty"`
	// AlertThreshold: a run that finds more missing events than this
	// raises an alert; default 0 (any gap).
	AlertThreshold int          `yaml:"alert_threshold,omitempty"`
	API            ReconcileAPI `yaml:"api"`
}

// ReconcileAPI is how to reach the provider's API. Which keys apply
// depends on the provider; url selects the generic JSON lister.
type ReconcileAPI struct {
	BaseURL string `yaml:"base_url"`
	// Token is the API credential: a Stripe secret or restricted key, a
	// GitHub token, a Shopify Admin API access token, WooCommerce
	// "consumer_key:consumer_secret", or the generic API's bearer token.
	Token string `yaml:"token"`

	Repo   string `yaml:"repo,omitempty"`    // github: owner/name of a repository hook
	Org    string `yaml:"org,omitempty"`     // github: organization of an organization hook
	HookID int64  `yaml:"hook_id,omitempty"` // github

	Version   string   `yaml:"version,omitempty"`   // shopify: Admin API version; default 2025-01
	Resources []string `yaml:"resources,omitempty"` // shopify: orders (default), products, customers
	// GraphQL (shopify) lists through the GraphQL Admin API, within its
	// cost-based rate limit, instead of the REST list.
	GraphQL bool `yaml:"graphql,omitempty"`

	URL    string `yaml:"url,omitempty"`    // generic: URL template
	Items  string `yaml:"items,omitempty"`  // generic: jq yielding the items
	ID     string `yaml:"id,omitempty"`     // generic: jq yielding an item's id (the dedup key)
	Topic  string `yaml:"topic,omitempty"`  // generic: jq yielding an item's topic
	Next   string `yaml:"next,omitempty"`   // generic: jq yielding the next cursor
	Header string `yaml:"header,omitempty"` // generic: header carrying the token; default Authorization: Bearer
}

// ReconcileProviders have a built-in lister; any provider can use the
// generic one (api.url).
var ReconcileProviders = []string{"stripe", "shopify", "github", "woocommerce"}

func (v *validator) reconcile(p string, s *Source) {
	r := s.Reconcile
	if r == nil {
		return
	}
	p += ".reconcile"
	a, ap := &r.API, p+".api"
	generic := a.URL != ""
	if _, set := v.d.lines[p+".every"]; set {
		v.positive(p+".every", r.Every)
	}
	if _, set := v.d.lines[p+".lookback"]; set {
		v.positive(p+".lookback", r.Lookback)
	}
	if r.Settle != nil && *r.Settle < 0 {
		v.errorf(p+".settle", "must not be negative")
	}
	every, lookback := r.Every.D(), r.Lookback.D()
	if every == 0 {
		every = DefaultReconcileEvery
	}
	if lookback == 0 {
		lookback = DefaultReconcileLookback
	}
	if lookback < every {
		v.errorf(p+".lookback", "must be at least every (%s): shorter windows leave time no run compares", every)
	}
	if r.AlertThreshold < 0 {
		v.errorf(p+".alert_threshold", "must not be negative")
	}
	if !generic && !slices.Contains(ReconcileProviders, s.Provider) {
		v.errorf(ap+".url", "is required for provider %s, which has no built-in reconciler (built in: %s)",
			s.Provider, strings.Join(ReconcileProviders, ", "))
	}
	if r.Redeliver && (generic || s.Provider != "github") {
		v.errorf(p+".redeliver", "is only supported for provider github")
	}
	only := func(key, set string, ok bool) {
		if set != "" && !ok {
			v.errorf(ap+"."+key, "is not used here")
		}
	}
	isGitHub := !generic && s.Provider == "github"
	isShopify := !generic && s.Provider == "shopify"
	only("repo", a.Repo, isGitHub)
	only("org", a.Org, isGitHub)
	only("version", a.Version, isShopify)
	for _, k := range [][2]string{{"items", a.Items}, {"id", a.ID}, {"topic", a.Topic}, {"next", a.Next}, {"header", a.Header}} {
		only(k[0], k[1], generic)
	}
	if a.HookID != 0 && !isGitHub {
		v.errorf(ap+".hook_id", "is not used here")
	}
	if a.GraphQL && !isShopify {
		v.errorf(ap+".graphql", "is only used by provider shopify")
	}
	if len(a.Resources) > 0 && !isShopify {
		v.errorf(ap+".resources", "is not used here")
	}
	if a.BaseURL != "" {
		v.apiURL(ap+".base_url", a.BaseURL)
	}
	switch {
	case generic:
		v.apiURL(ap+".url", a.URL)
		if a.BaseURL != "" {
			v.errorf(ap+".base_url", "is not used with url (the generic lister takes the whole URL)")
		}
		for _, k := range [][2]string{{"items", a.Items}, {"id", a.ID}, {"topic", a.Topic}, {"next", a.Next}} {
			if k[1] == "" {
				if k[0] == "items" || k[0] == "id" {
					v.errorf(ap+"."+k[0], "is required with url (a jq expression)")
				}
				continue
			}
			if _, err := gojq.Parse(k[1]); err != nil {
				v.errorf(ap+"."+k[0], "is not a valid jq expression: %v", err)
			}
		}
		if a.Next != "" && !strings.Contains(a.URL, "{cursor}") {
			v.errorf(ap+".url", "must contain {cursor} when next is set")
		}
		if a.Header != "" {
			v.headerName(ap+".header", a.Header)
		}
	case s.Provider == "stripe":
		v.need(ap+".token", a.Token, "a secret or restricted key with Events: Read")
	case s.Provider == "github":
		v.need(ap+".token", a.Token, "a token with Webhooks: Read (and write, to redeliver)")
		if (a.Repo == "") == (a.Org == "") {
			v.errorf(ap+".repo", "give exactly one of repo (owner/name) or org")
		} else if a.Repo != "" && strings.Count(a.Repo, "/") != 1 {
			v.errorf(ap+".repo", "must be owner/name")
		}
		if a.HookID <= 0 {
			v.errorf(ap+".hook_id", "is required: the id of the webhook whose deliveries are compared")
		}
	case s.Provider == "shopify":
		v.need(ap+".base_url", a.BaseURL, "the shop's URL, https://{shop}.myshopify.com")
		v.need(ap+".token", a.Token, "an Admin API access token with read_orders")
		for i, res := range a.Resources {
			if !slices.Contains([]string{"orders", "products", "customers"}, res) {
				v.errorf(fmt.Sprintf("%s.resources[%d]", ap, i), "must be orders, products or customers")
			}
		}
	case s.Provider == "woocommerce":
		v.need(ap+".base_url", a.BaseURL, "the shop's URL")
		if k, sec, ok := strings.Cut(a.Token, ":"); !ok || k == "" || sec == "" {
			v.errorf(ap+".token", "must be consumer_key:consumer_secret (a REST API key with Read permission)")
		}
	}
}

func (v *validator) need(path, val, what string) {
	if val == "" {
		v.errorf(path, "is required: %s", what)
	}
}

// apiURL checks a provider API URL; it is never quoted back (it may carry
// credentials).
func (v *validator) apiURL(path, raw string) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.errorf(path, "must be an absolute http:// or https:// URL with a host")
	}
}
