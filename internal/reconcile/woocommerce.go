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

// WooCommerce lists orders modified in the window (GET
// /wp-json/wc/v3/orders?modified_after=…&modified_before=…&dates_are_gmt=true),
// 100 a page, page by page up to X-WP-TotalPages. WooCommerce's webhook
// body is the same order object, and hookyard's WooCommerce dedup key is
// "<topic>/<id>@<date_modified_gmt>": the key is order.created when the
// order was never modified after creation, else order.updated, and both
// spellings count as received. The REST key (consumer key and secret,
// given as "ck_…:cs_…") needs Read permission.
type WooCommerce struct {
	base   string
	Client *Client
}

// NewWooCommerce returns a lister for the shop at baseURL; token is
// "consumer_key:consumer_secret", sent with HTTP Basic (over HTTPS).
func NewWooCommerce(baseURL, token string, c Client) *WooCommerce {
	user, pass, _ := strings.Cut(token, ":")
	c.Auth = func(r *http.Request) { r.SetBasicAuth(user, pass) }
	return &WooCommerce{base: strings.TrimRight(baseURL, "/"), Client: &c}
}

const wcTime = "2006-01-02T15:04:05"

// List implements Lister; the cursor is the next page number.
func (w *WooCommerce) List(ctx context.Context, since, until time.Time, cursor string) (Page, error) {
	page := 1
	if cursor != "" {
		n, err := strconv.Atoi(cursor)
		if err != nil || n < 1 {
			return Page{}, fmt.Errorf("woocommerce: bad page cursor %q", cursor)
		}
		page = n
	}
	q := url.Values{}
	q.Set("modified_after", since.UTC().Format(wcTime))
	q.Set("modified_before", until.UTC().Format(wcTime))
	q.Set("dates_are_gmt", "true")
	q.Set("orderby", "id")
	q.Set("order", "asc")
	q.Set("per_page", "100")
	q.Set("page", strconv.Itoa(page))
	resp, err := w.Client.Do(ctx, http.MethodGet, w.base+"/wp-json/wc/v3/orders?"+q.Encode(), nil, nil)
	if err != nil {
		return Page{}, err
	}
	var orders []json.RawMessage
	if err := json.Unmarshal(resp.Body, &orders); err != nil {
		return Page{}, fmt.Errorf("woocommerce: decode orders: %w", err)
	}
	var p Page
	for _, raw := range orders {
		var o struct {
			ID       int64  `json:"id"`
			Created  string `json:"date_created_gmt"`
			Modified string `json:"date_modified_gmt"`
		}
		if err := json.Unmarshal(raw, &o); err != nil || o.ID == 0 || o.Modified == "" {
			return Page{}, fmt.Errorf("woocommerce: order without id or date_modified_gmt in the list")
		}
		id := strconv.FormatInt(o.ID, 10)
		topic, other := "order.updated", "order.created"
		if o.Created == o.Modified {
			topic, other = other, topic
		}
		event := strings.TrimPrefix(topic, "order.")
		p.Items = append(p.Items, Item{
			Key: topic + "/" + id + "@" + o.Modified, AltKeys: []string{other + "/" + id + "@" + o.Modified},
			Topic: topic, Ref: id, Body: raw,
			Header: http.Header{"Content-Type": {"application/json"}, "X-Wc-Webhook-Topic": {topic},
				"X-Wc-Webhook-Resource": {"order"}, "X-Wc-Webhook-Event": {event}},
		})
	}
	if total, err := strconv.Atoi(resp.Header.Get("X-Wp-Totalpages")); err == nil && page < total && len(orders) > 0 {
		p.Next = strconv.Itoa(page + 1)
	}
	return p, nil
}
