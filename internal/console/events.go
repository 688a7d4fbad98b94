package console

import (
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hookyard/hookyard/internal/api"
	"github.com/hookyard/hookyard/internal/webhook"
)

// eventsForm is the events page's filter form, echoed back into it.
type eventsForm struct {
	Q, Source, Topic, State, Destination, Since, Until string
	Limit                                              string
}

// GET /console/events: events newest first, or — with a status — the
// deliveries in that state. Filters: source, topic, dedup key or id (q),
// status, destination (with a status), time range; keyset pages.
func (c *Console) events(w http.ResponseWriter, r *http.Request, q *request) error {
	v := r.URL.Query()
	f := eventsForm{Q: strings.TrimSpace(v.Get("q")), Source: v.Get("source"), Topic: v.Get("topic"),
		State: v.Get("state"), Destination: v.Get("destination"), Since: v.Get("since"), Until: v.Get("until"),
		Limit: v.Get("limit")}
	since, until, err := formRange(f.Since, f.Until, c.now())
	if err != nil {
		return err
	}
	limit := 0
	if f.Limit != "" {
		if limit, err = strconv.Atoi(f.Limit); err != nil {
			return &pageError{status: http.StatusBadRequest, msg: "limit: want a whole number from 1 to 1000"}
		}
	}
	cursor := v.Get("cursor")
	ctx := r.Context()

	// An id typed into the search box opens that event directly. Stripe's
	// provider ids also start with evt_, so a miss falls back to the dedup
	// key search below.
	if f.Q != "" && cursor == "" {
		if strings.HasPrefix(f.Q, "evt_") {
			if _, err := q.client.Event(ctx, f.Q); err == nil {
				http.Redirect(w, r, "/console/events/"+url.PathEscape(f.Q), http.StatusSeeOther)
				return nil
			} else if !errors.Is(err, webhook.ErrNotFound) {
				return err
			}
		}
		if strings.HasPrefix(f.Q, "dlv_") {
			if d, err := q.client.Delivery(ctx, f.Q); err == nil {
				http.Redirect(w, r, "/console/events/"+url.PathEscape(d.EventID)+"#"+d.ID, http.StatusSeeOther)
				return nil
			} else if !errors.Is(err, webhook.ErrNotFound) {
				return err
			}
		}
	}

	data := map[string]any{"Form": f, "States": states}
	if f.State != "" {
		dl, err := q.client.Deliveries(ctx, api.DeliveryQuery{States: []string{f.State}, Destination: f.Destination,
			Since: since, Until: until, Cursor: cursor, Limit: limit})
		if err != nil {
			return err
		}
		data["Deliveries"] = dl.Deliveries
		data["Next"] = nextURL(r, dl.NextCursor)
	} else {
		el, err := q.client.Events(ctx, api.EventQuery{Source: f.Source, Topic: f.Topic, DedupKey: f.Q,
			Since: since, Until: until, Cursor: cursor, Limit: limit})
		if err != nil {
			return err
		}
		data["Events"] = el.Events
		data["Next"] = nextURL(r, el.NextCursor)
	}
	data["First"] = firstURL(r)
	c.render(w, r, q.sess, http.StatusOK, "events", data)
	return nil
}

var states = []string{"pending", "inflight", "succeeded", "dead", "cancelled"}

// nextURL is r's URL on the page after cursor, or "" when there is none.
func nextURL(r *http.Request, cursor string) string {
	if cursor == "" {
		return ""
	}
	return pageURL(r, cursor)
}

// firstURL is r's URL on its first page, or "" when r is on it.
func firstURL(r *http.Request) string {
	if r.URL.Query().Get("cursor") == "" {
		return ""
	}
	return pageURL(r, "")
}

// pageURL is r's URL with its cursor replaced ("" removes it) and empty
// form fields dropped, to keep links short.
func pageURL(r *http.Request, cursor string) string {
	v := r.URL.Query()
	v.Del("cursor")
	for k, vs := range v {
		if len(vs) == 1 && vs[0] == "" {
			v.Del(k)
		}
	}
	if cursor != "" {
		v.Set("cursor", cursor)
	}
	u := r.URL.Path
	if len(v) > 0 {
		u += "?" + v.Encode()
	}
	return u
}

// formRange reads the since and until filters of a form.
func formRange(since, until string, now time.Time) (time.Time, time.Time, error) {
	s, err := formTime("since", since, now)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	u, err := formTime("until", until, now)
	return s, u, err
}

// formTime reads a time filter: RFC 3339, the browser's datetime-local
// (taken as UTC), or a duration ago ("24h").
func formTime(name, s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, &pageError{status: http.StatusBadRequest,
		msg: name + ": want a time (2026-01-02T15:04, UTC) or a duration ago (24h), got " + strconv.Quote(s)}
}

// GET /console/events/{id}: headers (signatures masked by the API), the
// body highlighted, and each delivery with its attempt timeline.
func (c *Console) event(w http.ResponseWriter, r *http.Request, q *request) error {
	ev, err := q.client.Event(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	type header struct{ Name, Value string }
	var hs []header
	for k, vs := range ev.Headers {
		for _, v := range vs {
			hs = append(hs, header{k, v})
		}
	}
	sort.Slice(hs, func(i, j int) bool { return hs[i].Name < hs[j].Name })
	c.render(w, r, q.sess, http.StatusOK, "event", map[string]any{
		"Event": ev, "Headers": hs, "Body": highlightBody(ev.Body, ev.BodyEncoding),
		"Notice": notices[r.URL.Query().Get("notice")],
	})
	return nil
}

// notices are the fixed messages a redirect may ask a page to show.
var notices = map[string]string{
	"replayed":  "The delivery is pending again, with a fresh attempt budget and the same idempotency key.",
	"cancelled": "The delivery is cancelled.",
}

// POST /console/deliveries/{id}/replay
func (c *Console) deliveryReplay(w http.ResponseWriter, r *http.Request, q *request) error {
	d, err := q.client.ReplayDelivery(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/console/events/"+url.PathEscape(d.EventID)+"?notice=replayed#"+d.ID, http.StatusSeeOther)
	return nil
}

// POST /console/deliveries/{id}/cancel
func (c *Console) deliveryCancel(w http.ResponseWriter, r *http.Request, q *request) error {
	d, err := q.client.CancelDelivery(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/console/events/"+url.PathEscape(d.EventID)+"?notice=cancelled#"+d.ID, http.StatusSeeOther)
	return nil
}
