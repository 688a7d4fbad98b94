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

// GitHub lists a webhook's deliveries (GET
// /repos/{owner}/{repo}/hooks/{hook_id}/deliveries, or /orgs/{org}/hooks/…),
// newest first, following the Link header's cursor, and stops at the first
// delivery older than the window. GitHub keeps deliveries for 3 days and
// never retries a failed one. The delivery GUID is the X-GitHub-Delivery
// header of the real webhook (a redelivery repeats it), so it is the dedup
// key. A missing delivery's payload is fetched (GET …/deliveries/{id}) and
// backfilled, or — with redeliver — GitHub is asked to send it again (POST
// …/deliveries/{id}/attempts), so it arrives signed like any other.
//
// The token needs "Webhooks: Read" (repository or organization) to list and
// fetch, and "Webhooks: Read and write" to redeliver; a classic token needs
// admin:repo_hook (or admin:org_hook).
type GitHub struct {
	hooks  string // …/hooks/{id}
	Client *Client
}

// NewGitHub returns a lister for the hook of repo ("owner/name") or org.
func NewGitHub(baseURL, token, repo, org string, hookID int64, c Client) *GitHub {
	c.Auth = func(r *http.Request) {
		r.Header.Set("Authorization", "Bearer "+token)
		r.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	}
	base := strings.TrimRight(orDefault(baseURL, "https://api.github.com"), "/")
	owner := "/repos/" + repo
	if repo == "" {
		owner = "/orgs/" + url.PathEscape(org)
	}
	return &GitHub{hooks: base + owner + "/hooks/" + strconv.FormatInt(hookID, 10), Client: &c}
}

type githubDelivery struct {
	ID          int64     `json:"id"`
	GUID        string    `json:"guid"`
	DeliveredAt time.Time `json:"delivered_at"`
	Event       string    `json:"event"`
	StatusCode  int       `json:"status_code"`
}

// List implements Lister. The cursor is GitHub's own (from Link).
func (g *GitHub) List(ctx context.Context, since, until time.Time, cursor string) (Page, error) {
	q := url.Values{"per_page": {"100"}}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	resp, err := g.Client.Do(ctx, http.MethodGet, g.hooks+"/deliveries?"+q.Encode(), nil, nil)
	if err != nil {
		return Page{}, err
	}
	var ds []githubDelivery
	if err := json.Unmarshal(resp.Body, &ds); err != nil {
		return Page{}, fmt.Errorf("github: decode deliveries: %w", err)
	}
	var p Page
	older := false
	for _, d := range ds {
		if d.DeliveredAt.Before(since) {
			older = true
			continue
		}
		if !d.DeliveredAt.Before(until) || d.GUID == "" {
			continue
		}
		p.Items = append(p.Items, Item{Key: d.GUID, Topic: d.Event, Ref: strconv.FormatInt(d.ID, 10), At: d.DeliveredAt})
	}
	if !older {
		if next := linkNext(resp.Header); next != "" {
			if u, err := url.Parse(next); err == nil {
				p.Next = u.Query().Get("cursor")
			}
		}
	}
	return p, nil
}

// Fetch implements Fetcher: the payload and headers GitHub sent.
func (g *GitHub) Fetch(ctx context.Context, it *Item) error {
	resp, err := g.Client.Do(ctx, http.MethodGet, g.hooks+"/deliveries/"+url.PathEscape(it.Ref), nil, nil)
	if err != nil {
		return err
	}
	var d struct {
		Event   string `json:"event"`
		Request struct {
			Headers map[string]string `json:"headers"`
			Payload json.RawMessage   `json:"payload"`
		} `json:"request"`
	}
	if err := json.Unmarshal(resp.Body, &d); err != nil {
		return fmt.Errorf("github: decode delivery %s: %w", it.Ref, err)
	}
	if len(d.Request.Payload) == 0 || string(d.Request.Payload) == "null" {
		return fmt.Errorf("github: delivery %s has no payload", it.Ref)
	}
	it.Body = d.Request.Payload
	it.Header = http.Header{}
	for k, v := range d.Request.Headers {
		switch http.CanonicalHeaderKey(k) {
		case "X-Hub-Signature", "X-Hub-Signature-256": // not evidence for a synthetic event
			continue
		}
		it.Header.Set(k, v)
	}
	it.Header.Set("Content-Type", "application/json")
	it.Header.Set("X-GitHub-Delivery", it.Key)
	if d.Event != "" {
		it.Topic = d.Event
		it.Header.Set("X-GitHub-Event", d.Event)
	}
	return nil
}

// Redeliver implements Redeliverer.
func (g *GitHub) Redeliver(ctx context.Context, it *Item) error {
	_, err := g.Client.Do(ctx, http.MethodPost, g.hooks+"/deliveries/"+url.PathEscape(it.Ref)+"/attempts", nil, nil)
	return err
}

// linkNext returns the rel="next" URL of an RFC 8288 Link header.
func linkNext(h http.Header) string {
	for _, v := range h.Values("Link") {
		for _, part := range strings.Split(v, ",") {
			seg := strings.Split(part, ";")
			if len(seg) < 2 {
				continue
			}
			target := strings.TrimSpace(seg[0])
			if !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
				continue
			}
			for _, p := range seg[1:] {
				p = strings.ReplaceAll(strings.TrimSpace(p), " ", "")
				if p == `rel="next"` || p == "rel=next" {
					return target[1 : len(target)-1]
				}
			}
		}
	}
	return ""
}
