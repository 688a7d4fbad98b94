package reconcile

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Shopify lists the resources (default orders) updated in the window
// through the Admin REST API (GET /admin/api/{version}/orders.json?
// updated_at_min=…&updated_at_max=…&status=any, 250 a page, following the
// Link header's page_info), and slows down as the leaky bucket reported in
// X-Shopify-Shop-Api-Call-Limit fills.
//
// Shopify's webhook dedup key (X-Shopify-Webhook-Id) is per delivery and
// cannot be derived from the API object, so Shopify items are matched by
// resource and version instead: "orders/<id>@<updated_at>", read from the
// bodies of the events the source received in the window (BodyKeys). A
// backfilled object is stored under "reconcile:orders/<id>@<updated_at>";
// a real webhook for the same change arriving after the backfill carries a
// different key and is delivered too — consumers must be idempotent on
// the order id and updated_at, as Shopify already requires.
//
// The access token needs read access to each resource listed
// (read_orders, read_products, read_customers); orders older than 60 days
// also need read_all_orders.
type Shopify struct {
	base      string // https://shop.myshopify.com/admin/api/2025-01
	resources []string
	Client    *Client
}

// NewShopify returns a lister for the shop at baseURL
// (https://{shop}.myshopify.com).
func NewShopify(baseURL, token, version string, resources []string, c Client) *Shopify {
	c.Auth = func(r *http.Request) { r.Header.Set("X-Shopify-Access-Token", token) }
	if len(resources) == 0 {
		resources = []string{"orders"}
	}
	return &Shopify{base: strings.TrimRight(baseURL, "/") + "/admin/api/" + orDefault(version, "2025-01"),
		resources: resources, Client: &c}
}

// ShopifyResources are the resources Shopify reconciliation can list, with
// the webhook topic verbs of each (create, update).
var ShopifyResources = map[string][2]string{
	"orders":    {"orders/create", "orders/updated"},
	"products":  {"products/create", "products/update"},
	"customers": {"customers/create", "customers/update"},
}

// List implements Lister. The cursor is "<resource index>:<page_info>".
func (s *Shopify) List(ctx context.Context, since, until time.Time, cursor string) (Page, error) {
	idx, pageInfo := 0, ""
	if cursor != "" {
		i, pi, ok := strings.Cut(cursor, ":")
		n, err := strconv.Atoi(i)
		if !ok || err != nil || n < 0 || n >= len(s.resources) {
			return Page{}, fmt.Errorf("shopify: bad cursor %q", cursor)
		}
		idx, pageInfo = n, pi
	}
	res := s.resources[idx]
	q := url.Values{"limit": {"250"}}
	if pageInfo != "" {
		q.Set("page_info", pageInfo) // other filters are fixed by page_info
	} else {
		q.Set("updated_at_min", since.UTC().Format(time.RFC3339))
		q.Set("updated_at_max", until.UTC().Format(time.RFC3339))
		if res == "orders" {
			q.Set("status", "any")
		}
	}
	resp, err := s.Client.Do(ctx, http.MethodGet, s.base+"/"+res+".json?"+q.Encode(), nil, nil)
	if err != nil {
		return Page{}, err
	}
	if err := s.pace(ctx, resp.Header.Get("X-Shopify-Shop-Api-Call-Limit")); err != nil {
		return Page{}, err
	}
	var body map[string][]json.RawMessage
	if err := json.Unmarshal(resp.Body, &body); err != nil {
		return Page{}, fmt.Errorf("shopify: decode %s: %w", res, err)
	}
	topics := ShopifyResources[res]
	var p Page
	for _, raw := range body[res] {
		id, updated, created, ok := shopifyVersion(raw)
		if !ok {
			return Page{}, fmt.Errorf("shopify: %s without id or updated_at in the list", res)
		}
		key := res + "/" + id + "@" + strconv.FormatInt(updated.Unix(), 10)
		topic := topics[1]
		if created.Equal(updated) {
			topic = topics[0]
		}
		p.Items = append(p.Items, Item{Key: "reconcile:" + key, AltKeys: []string{key}, Topic: topic, Ref: id, Body: raw,
			Header: http.Header{"Content-Type": {"application/json"}, "X-Shopify-Topic": {topic}}})
	}
	if next := linkNext(resp.Header); next != "" {
		if u, err := url.Parse(next); err == nil && u.Query().Get("page_info") != "" {
			p.Next = strconv.Itoa(idx) + ":" + u.Query().Get("page_info")
		}
	}
	if p.Next == "" && idx+1 < len(s.resources) {
		p.Next = strconv.Itoa(idx+1) + ":"
	}
	return p, nil
}

// pace waits while the REST leaky bucket ("32/40") is nearly full: the
// bucket drains 2 calls a second on standard plans.
func (s *Shopify) pace(ctx context.Context, limit string) error {
	used, capacity, ok := strings.Cut(limit, "/")
	u, err1 := strconv.Atoi(used)
	c, err2 := strconv.Atoi(capacity)
	if !ok || err1 != nil || err2 != nil || c <= 0 {
		return nil
	}
	if over := u - (c - 4); over > 0 {
		return s.Client.sleep(ctx, time.Duration(over)*500*time.Millisecond)
	}
	return nil
}

// BodyKeys implements BodyKeyer: "<resource>/<id>@<updated_at unix>" of a
// received Shopify webhook.
func (s *Shopify) BodyKeys(topic string, body []byte) []string {
	res, _, _ := strings.Cut(topic, "/")
	if _, ok := ShopifyResources[res]; !ok {
		return nil
	}
	id, updated, _, ok := shopifyVersion(body)
	if !ok {
		return nil
	}
	return []string{res + "/" + id + "@" + strconv.FormatInt(updated.Unix(), 10)}
}

func shopifyVersion(raw []byte) (id string, updated, created time.Time, ok bool) {
	var o struct {
		ID        json.Number `json:"id"`
		UpdatedAt time.Time   `json:"updated_at"`
		CreatedAt time.Time   `json:"created_at"`
	}
	if json.Unmarshal(raw, &o) != nil || o.ID == "" || o.UpdatedAt.IsZero() {
		return "", time.Time{}, time.Time{}, false
	}
	return o.ID.String(), o.UpdatedAt, o.CreatedAt, true
}
