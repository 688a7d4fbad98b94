package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Client calls the admin API. Every method returns a *Problem as its error
// when the server answers non-2xx.
type Client struct {
	BaseURL string // e.g. http://127.0.0.1:8081
	Token   string // bearer token
	HTTP    *http.Client
}

// Whoami returns the identity the token authenticates as.
func (c *Client) Whoami(ctx context.Context) (Identity, error) {
	var out Identity
	return out, c.do(ctx, http.MethodGet, "/api/v1/whoami", nil, nil, &out)
}

// Events lists events, newest first.
func (c *Client) Events(ctx context.Context, q EventQuery) (EventList, error) {
	var out EventList
	return out, c.do(ctx, http.MethodGet, "/api/v1/events", q.values(), nil, &out)
}

// Event returns one event with its masked headers, body, deliveries and
// their attempts.
func (c *Client) Event(ctx context.Context, id string) (Event, error) {
	var out Event
	return out, c.do(ctx, http.MethodGet, "/api/v1/events/"+url.PathEscape(id), nil, nil, &out)
}

// Deliveries lists deliveries, newest first.
func (c *Client) Deliveries(ctx context.Context, q DeliveryQuery) (DeliveryList, error) {
	var out DeliveryList
	return out, c.do(ctx, http.MethodGet, "/api/v1/deliveries", q.values(), nil, &out)
}

// Delivery returns one delivery with its attempts.
func (c *Client) Delivery(ctx context.Context, id string) (DeliveryDetail, error) {
	var out DeliveryDetail
	return out, c.do(ctx, http.MethodGet, "/api/v1/deliveries/"+url.PathEscape(id), nil, nil, &out)
}

// ReplayDelivery makes a terminal delivery pending again with a fresh
// attempt budget and returns it.
func (c *Client) ReplayDelivery(ctx context.Context, id string) (Delivery, error) {
	var out Delivery
	return out, c.do(ctx, http.MethodPost, "/api/v1/deliveries/"+url.PathEscape(id)+"/replay", nil, nil, &out)
}

// CancelDelivery ends a live delivery and returns it.
func (c *Client) CancelDelivery(ctx context.Context, id string) (Delivery, error) {
	var out Delivery
	return out, c.do(ctx, http.MethodPost, "/api/v1/deliveries/"+url.PathEscape(id)+"/cancel", nil, nil, &out)
}

// DLQ lists dead deliveries, newest first; q.States is ignored.
func (c *Client) DLQ(ctx context.Context, q DeliveryQuery) (DeliveryList, error) {
	q.States = nil
	var out DeliveryList
	return out, c.do(ctx, http.MethodGet, "/api/v1/dlq", q.values(), nil, &out)
}

// DLQReplay replays dead deliveries by id (at most MaxReplayIDs per call) or
// all of them, or with DryRun only counts them.
func (c *Client) DLQReplay(ctx context.Context, req ReplayRequest) (ReplayResult, error) {
	var out ReplayResult
	return out, c.do(ctx, http.MethodPost, "/api/v1/dlq/replay", nil, req, &out)
}

// Quarantine lists quarantined requests, optionally of one source.
func (c *Client) Quarantine(ctx context.Context, source, cursor string) (QuarantineList, error) {
	q := url.Values{}
	if source != "" {
		q.Set("source", source)
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	var out QuarantineList
	return out, c.do(ctx, http.MethodGet, "/api/v1/quarantine", q, nil, &out)
}

func (c *Client) do(ctx context.Context, method, path string, q url.Values, in, out any) error {
	u := strings.TrimRight(c.BaseURL, "/") + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("admin API: encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return fmt.Errorf("admin API: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("admin API: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return readProblem(resp)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("admin API: %s %s: decode response: %w", method, path, err)
	}
	return nil
}

// readProblem turns a non-2xx answer into a *Problem, also when something
// in between (a proxy) answered with something other than problem+json.
func readProblem(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	p := &Problem{}
	if err := json.Unmarshal(b, p); err != nil || p.Status == 0 {
		p = &Problem{Type: "about:blank", Title: http.StatusText(resp.StatusCode),
			Detail: strings.TrimSpace(string(b[:min(len(b), 512)]))}
	}
	p.Status = resp.StatusCode
	return p
}
