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

// Stripe lists events with GET /v1/events?created[gte]=…&created[lt]=…,
// 100 a page, following has_more with starting_after (newest first). An
// event object is exactly the body Stripe posts to a webhook endpoint, and
// its id is the dedup key the real webhook carries. Stripe keeps events
// for 30 days. The key needs read access to Events (a restricted key with
// "Events: Read" suffices).
type Stripe struct {
	BaseURL string // default https://api.stripe.com
	Client  *Client
}

// NewStripe returns a Stripe lister authenticating with a secret or
// restricted key.
func NewStripe(baseURL, key string, c Client) *Stripe {
	c.Auth = func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+key) }
	return &Stripe{BaseURL: strings.TrimRight(orDefault(baseURL, "https://api.stripe.com"), "/"), Client: &c}
}

type stripeList struct {
	Data    []json.RawMessage `json:"data"`
	HasMore bool              `json:"has_more"`
}

// List implements Lister.
func (s *Stripe) List(ctx context.Context, since, until time.Time, cursor string) (Page, error) {
	q := url.Values{}
	q.Set("limit", "100")
	q.Set("created[gte]", strconv.FormatInt(since.Unix(), 10))
	q.Set("created[lt]", strconv.FormatInt(until.Unix(), 10))
	if cursor != "" {
		q.Set("starting_after", cursor)
	}
	resp, err := s.Client.Do(ctx, http.MethodGet, s.BaseURL+"/v1/events?"+q.Encode(), nil, nil)
	if err != nil {
		return Page{}, err
	}
	var l stripeList
	if err := json.Unmarshal(resp.Body, &l); err != nil {
		return Page{}, fmt.Errorf("stripe: decode event list: %w", err)
	}
	var p Page
	for _, raw := range l.Data {
		var ev struct {
			ID      string `json:"id"`
			Type    string `json:"type"`
			Created int64  `json:"created"`
		}
		if err := json.Unmarshal(raw, &ev); err != nil || ev.ID == "" {
			return Page{}, fmt.Errorf("stripe: event without an id in the list")
		}
		p.Items = append(p.Items, Item{Key: ev.ID, Topic: ev.Type, Ref: ev.ID, Body: raw, At: time.Unix(ev.Created, 0),
			Header: http.Header{"Content-Type": {"application/json; charset=utf-8"}}})
	}
	if l.HasMore && len(p.Items) > 0 {
		p.Next = p.Items[len(p.Items)-1].Ref
	}
	return p, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
