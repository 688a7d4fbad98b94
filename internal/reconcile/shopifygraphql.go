package reconcile

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ShopifyGraphQL lists the resources updated in the window through the
// GraphQL Admin API (POST /admin/api/{version}/graphql.json, 100 nodes a
// page, cursor pagination), respecting Shopify's cost-based rate limit:
// after each answer it reads extensions.cost.throttleStatus and, before
// the next query, waits until enough points have been restored for the
// query's requested cost; a THROTTLED answer waits the same way and is
// retried. The list carries ids and times only, so a missing object's body
// is fetched from the REST endpoint ({resource}/{id}.json), whose shape is
// the webhook's. Matching and keys are as for Shopify.
type ShopifyGraphQL struct {
	rest *Shopify
	// wait is how long to wait before the next query (cost throttle).
	wait time.Duration
}

// NewShopifyGraphQL returns a GraphQL lister for the shop at baseURL.
func NewShopifyGraphQL(baseURL, token, version string, resources []string, c Client) *ShopifyGraphQL {
	return &ShopifyGraphQL{rest: NewShopify(baseURL, token, version, resources, c)}
}

const shopifyQuery = `query Reconcile($q: String!, $after: String) {
  %s(first: 100, after: $after, query: $q, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes { legacyResourceId createdAt updatedAt }
  }
}`

type shopifyGraphQLAnswer struct {
	Data   map[string]json.RawMessage `json:"data"`
	Errors []struct {
		Message    string `json:"message"`
		Extensions struct {
			Code string `json:"code"`
		} `json:"extensions"`
	} `json:"errors"`
	Extensions struct {
		Cost struct {
			RequestedQueryCost float64 `json:"requestedQueryCost"`
			ThrottleStatus     struct {
				MaximumAvailable   float64 `json:"maximumAvailable"`
				CurrentlyAvailable float64 `json:"currentlyAvailable"`
				RestoreRate        float64 `json:"restoreRate"`
			} `json:"throttleStatus"`
		} `json:"cost"`
	} `json:"extensions"`
}

// maxThrottled bounds THROTTLED retries of one query.
const maxThrottled = 10

// List implements Lister. The cursor is "<resource index>:<endCursor>".
func (s *ShopifyGraphQL) List(ctx context.Context, since, until time.Time, cursor string) (Page, error) {
	idx, after := 0, ""
	if cursor != "" {
		i, a, ok := strings.Cut(cursor, ":")
		n, err := strconv.Atoi(i)
		if !ok || err != nil || n < 0 || n >= len(s.rest.resources) {
			return Page{}, fmt.Errorf("shopify: bad cursor %q", cursor)
		}
		idx, after = n, a
	}
	res := s.rest.resources[idx]
	vars := map[string]any{"q": fmt.Sprintf("updated_at:>='%s' AND updated_at:<'%s'",
		since.UTC().Format(time.RFC3339), until.UTC().Format(time.RFC3339))}
	if after != "" {
		vars["after"] = after
	}
	body, _ := json.Marshal(map[string]any{"query": fmt.Sprintf(shopifyQuery, res), "variables": vars})
	var ans shopifyGraphQLAnswer
	for n := 0; ; n++ {
		if s.wait > 0 {
			if err := s.rest.Client.sleep(ctx, s.wait); err != nil {
				return Page{}, err
			}
		}
		s.wait = 0
		resp, err := s.rest.Client.Do(ctx, http.MethodPost, s.rest.base+"/graphql.json",
			http.Header{"Content-Type": {"application/json"}}, body)
		if err != nil {
			return Page{}, err
		}
		ans = shopifyGraphQLAnswer{}
		if err := json.Unmarshal(resp.Body, &ans); err != nil {
			return Page{}, fmt.Errorf("shopify: decode GraphQL answer: %w", err)
		}
		s.wait = throttleWait(ans)
		throttled := false
		for _, e := range ans.Errors {
			throttled = throttled || e.Extensions.Code == "THROTTLED"
		}
		if !throttled {
			break
		}
		if n == maxThrottled {
			return Page{}, fmt.Errorf("shopify: still throttled after %d tries", n+1)
		}
		if s.wait == 0 {
			s.wait = time.Second
		}
	}
	if len(ans.Errors) > 0 {
		return Page{}, fmt.Errorf("shopify: GraphQL error: %s", ans.Errors[0].Message)
	}
	var conn struct {
		PageInfo struct {
			HasNextPage bool   `json:"hasNextPage"`
			EndCursor   string `json:"endCursor"`
		} `json:"pageInfo"`
		Nodes []struct {
			ID        string    `json:"legacyResourceId"`
			CreatedAt time.Time `json:"createdAt"`
			UpdatedAt time.Time `json:"updatedAt"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal(ans.Data[res], &conn); err != nil {
		return Page{}, fmt.Errorf("shopify: decode %s: %w", res, err)
	}
	topics := ShopifyResources[res]
	var p Page
	for _, nd := range conn.Nodes {
		if nd.ID == "" || nd.UpdatedAt.IsZero() {
			return Page{}, fmt.Errorf("shopify: %s node without legacyResourceId or updatedAt", res)
		}
		key := res + "/" + nd.ID + "@" + strconv.FormatInt(nd.UpdatedAt.Unix(), 10)
		topic := topics[1]
		if nd.CreatedAt.Equal(nd.UpdatedAt) {
			topic = topics[0]
		}
		p.Items = append(p.Items, Item{Key: "reconcile:" + key, AltKeys: []string{key}, Topic: topic,
			Ref: res + "/" + nd.ID})
	}
	switch {
	case conn.PageInfo.HasNextPage && conn.PageInfo.EndCursor != "":
		p.Next = strconv.Itoa(idx) + ":" + conn.PageInfo.EndCursor
	case idx+1 < len(s.rest.resources):
		p.Next = strconv.Itoa(idx+1) + ":"
	}
	return p, nil
}

// throttleWait is how long until the bucket holds the query's requested
// cost again.
func throttleWait(a shopifyGraphQLAnswer) time.Duration {
	c := a.Extensions.Cost
	st := c.ThrottleStatus
	if st.RestoreRate <= 0 || c.RequestedQueryCost <= st.CurrentlyAvailable {
		return 0
	}
	secs := (c.RequestedQueryCost - st.CurrentlyAvailable) / st.RestoreRate
	return time.Duration(math.Ceil(secs*1000)) * time.Millisecond
}

// Fetch implements Fetcher: GET /admin/api/{version}/{resource}/{id}.json.
func (s *ShopifyGraphQL) Fetch(ctx context.Context, it *Item) error {
	resp, err := s.rest.Client.Do(ctx, http.MethodGet, s.rest.base+"/"+it.Ref+".json", nil, nil)
	if err != nil {
		return err
	}
	if err := s.rest.pace(ctx, resp.Header.Get("X-Shopify-Shop-Api-Call-Limit")); err != nil {
		return err
	}
	var wrapped map[string]json.RawMessage
	if err := json.Unmarshal(resp.Body, &wrapped); err != nil || len(wrapped) != 1 {
		return fmt.Errorf("shopify: decode %s: want one wrapped object", it.Ref)
	}
	for _, v := range wrapped {
		it.Body = v
	}
	it.Header = http.Header{"Content-Type": {"application/json"}, "X-Shopify-Topic": {it.Topic}}
	return nil
}

// BodyKeys implements BodyKeyer, as Shopify's.
func (s *ShopifyGraphQL) BodyKeys(topic string, body []byte) []string {
	return s.rest.BodyKeys(topic, body)
}
