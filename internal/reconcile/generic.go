package reconcile

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/itchyny/gojq"
)

// Generic lists any JSON API: URL is a template with the window
// ({since}, {until} as RFC 3339; {since_unix}, {until_unix}) and the page
// position ({cursor}, or {page} counting from 1); Items is a jq expression
// yielding the page's items, ID one yielding an item's id — the dedup key
// the provider's webhook carries (for provider hmac, the id_header value) —
// and Topic one yielding its topic. Pagination is by cursor when Next (a jq
// expression over the whole response yielding the next cursor, null or ""
// at the end) is set, by page number when URL has {page} (until a page has
// no items), else the first page is all.
type Generic struct {
	url                    string
	items, id, topic, next *gojq.Code
	Client                 *Client
}

// GenericSpec configures a Generic lister.
type GenericSpec struct {
	URL, Items, ID, Topic, Next string
	// Token is sent as "Authorization: Bearer <token>", or as the value of
	// Header when set.
	Token, Header string
}

// NewGeneric compiles the spec's expressions.
func NewGeneric(s GenericSpec, c Client) (*Generic, error) {
	g := &Generic{url: s.URL, Client: &c}
	for _, e := range []struct {
		name, src string
		dst       **gojq.Code
	}{{"items", s.Items, &g.items}, {"id", s.ID, &g.id}, {"topic", s.Topic, &g.topic}, {"next", s.Next, &g.next}} {
		if e.src == "" {
			continue
		}
		code, err := CompileJQ(e.src)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.name, err)
		}
		*e.dst = code
	}
	if g.items == nil || g.id == nil {
		return nil, fmt.Errorf("items and id are required")
	}
	token, header := s.Token, s.Header
	c.Auth = func(r *http.Request) {
		switch {
		case token == "":
		case header != "":
			r.Header.Set(header, token)
		default:
			r.Header.Set("Authorization", "Bearer "+token)
		}
	}
	g.Client = &c
	return g, nil
}

// CompileJQ parses and compiles a jq expression (for config validation too).
func CompileJQ(src string) (*gojq.Code, error) {
	q, err := gojq.Parse(src)
	if err != nil {
		return nil, err
	}
	return gojq.Compile(q)
}

// List implements Lister.
func (g *Generic) List(ctx context.Context, since, until time.Time, cursor string) (Page, error) {
	page := 1
	if cursor != "" && g.next == nil {
		n, err := strconv.Atoi(cursor)
		if err != nil || n < 1 {
			return Page{}, fmt.Errorf("generic: bad page cursor %q", cursor)
		}
		page = n
	}
	u := strings.NewReplacer(
		"{since}", url.QueryEscape(since.UTC().Format(time.RFC3339)),
		"{until}", url.QueryEscape(until.UTC().Format(time.RFC3339)),
		"{since_unix}", strconv.FormatInt(since.Unix(), 10),
		"{until_unix}", strconv.FormatInt(until.Unix(), 10),
		"{cursor}", url.QueryEscape(cursor),
		"{page}", strconv.Itoa(page),
	).Replace(g.url)
	resp, err := g.Client.Do(ctx, http.MethodGet, u, nil, nil)
	if err != nil {
		return Page{}, err
	}
	dec := json.NewDecoder(bytes.NewReader(resp.Body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return Page{}, fmt.Errorf("generic: decode response: %w", err)
	}
	var p Page
	iter := g.items.RunWithContext(ctx, doc)
	for {
		v, ok := iter.Next()
		if !ok {
			break
		}
		if err, isErr := v.(error); isErr {
			return Page{}, fmt.Errorf("generic: items: %w", err)
		}
		id, err := first(ctx, g.id, v)
		if err != nil || id == "" {
			return Page{}, fmt.Errorf("generic: id of an item: %v", cmpErr(err, "empty"))
		}
		it := Item{Key: id, Ref: id, Header: http.Header{"Content-Type": {"application/json"}}}
		if g.topic != nil {
			if it.Topic, err = first(ctx, g.topic, v); err != nil {
				return Page{}, fmt.Errorf("generic: topic of item %s: %w", id, err)
			}
		}
		if it.Body, err = json.Marshal(v); err != nil {
			return Page{}, err
		}
		p.Items = append(p.Items, it)
	}
	switch {
	case g.next != nil:
		next, err := first(ctx, g.next, doc)
		if err != nil {
			return Page{}, fmt.Errorf("generic: next: %w", err)
		}
		if next != cursor {
			p.Next = next
		}
	case strings.Contains(g.url, "{page}") && len(p.Items) > 0:
		p.Next = strconv.Itoa(page + 1)
	}
	return p, nil
}

// first runs code on v and returns its first output as a string ("" for
// null or no output).
func first(ctx context.Context, code *gojq.Code, v any) (string, error) {
	out, ok := code.RunWithContext(ctx, v).Next()
	if !ok || out == nil {
		return "", nil
	}
	switch x := out.(type) {
	case error:
		return "", x
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case int:
		return strconv.Itoa(x), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	}
	b, err := json.Marshal(out)
	return string(b), err
}

func cmpErr(err error, s string) string {
	if err != nil {
		return err.Error()
	}
	return s
}
