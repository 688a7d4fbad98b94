package api

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"
)

// Query parameters each list endpoint accepts. Unknown ones are rejected, so
// a typo answers 400 instead of silently matching everything.
var (
	eventParams      = []string{"source", "topic", "dedup_key", "q", "state", "since", "until", "cursor", "limit"}
	dlqParams        = []string{"destination", "route", "event_id", "error_class", "since", "until", "cursor", "limit"}
	deliveryParams   = append([]string{"state"}, dlqParams...)
	quarantineParams = []string{"source", "cursor", "limit"}
	auditParams      = []string{"actor", "action", "target", "order", "since", "until", "cursor", "limit"}
)

// params parses r's query string and checks every name against allowed.
func params(r *http.Request, allowed []string) (url.Values, error) {
	v, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, invalid("query", "%v", err)
	}
	for k, vs := range v {
		if !slices.Contains(allowed, k) {
			return nil, invalid(k, "unknown query parameter (want one of %s)", strings.Join(allowed, ", "))
		}
		if k != "state" && k != "error_class" && len(vs) > 1 {
			return nil, invalid(k, "given %d times; give it once", len(vs))
		}
	}
	return v, nil
}

func eventFilter(r *http.Request, now time.Time) (store.EventFilter, error) {
	v, err := params(r, eventParams)
	if err != nil {
		return store.EventFilter{}, err
	}
	f := store.EventFilter{Source: v.Get("source"), Topic: v.Get("topic"), DedupKey: v.Get("dedup_key"),
		Query: strings.TrimSpace(v.Get("q")), Cursor: v.Get("cursor")}
	if f.States, err = parseStates(v); err != nil {
		return f, err
	}
	f.Since, f.Until, f.Limit, err = common(v, now)
	return f, err
}

// deliveryFilter parses the delivery list filters; states says whether the
// state parameter is allowed (it is not on /dlq, which is state dead).
func deliveryFilter(r *http.Request, now time.Time, states bool) (store.DeliveryFilter, error) {
	allowed := dlqParams
	if states {
		allowed = deliveryParams
	}
	v, err := params(r, allowed)
	if err != nil {
		return store.DeliveryFilter{}, err
	}
	f := store.DeliveryFilter{Destination: v.Get("destination"), Route: v.Get("route"),
		EventID: v.Get("event_id"), Cursor: v.Get("cursor")}
	if f.States, err = parseStates(v); err != nil {
		return f, err
	}
	for _, s := range v["error_class"] {
		for c := range strings.SplitSeq(s, ",") {
			if c = strings.TrimSpace(c); c == "" {
				continue
			}
			if err := checkErrorClass(c); err != nil {
				return f, err
			}
			if !slices.Contains(f.ErrorClasses, c) {
				f.ErrorClasses = append(f.ErrorClasses, c)
			}
		}
	}
	f.Since, f.Until, f.Limit, err = common(v, now)
	return f, err
}

// states parses the state parameter, which may repeat
// (?state=dead&state=cancelled) or be a comma list.
func parseStates(v url.Values) ([]webhook.State, error) {
	var out []webhook.State
	for _, s := range v["state"] {
		for st := range strings.SplitSeq(s, ",") {
			st = strings.TrimSpace(st)
			if st == "" {
				continue
			}
			if !webhook.State(st).Valid() {
				return nil, invalid("state", "unknown state %q (want pending, inflight, succeeded, dead or cancelled)", st)
			}
			if !slices.Contains(out, webhook.State(st)) {
				out = append(out, webhook.State(st))
			}
		}
	}
	return out, nil
}

// errorClasses are the classes an attempt can record.
var errorClasses = []string{webhook.ClassHTTP5xx, webhook.ClassHTTP4xx, webhook.ClassHTTP429, webhook.ClassHTTP3xx,
	webhook.ClassTimeout, webhook.ClassConnection, webhook.ClassTransform, webhook.ClassSSRFBlocked, webhook.ClassInternal,
	webhook.ClassBreakerOpen}

func checkErrorClass(c string) error {
	if !slices.Contains(errorClasses, c) {
		return invalid("error_class", "unknown error class %q (want one of %s)", c, strings.Join(errorClasses, ", "))
	}
	return nil
}

// common parses since, until and limit.
func common(v url.Values, now time.Time) (since, until time.Time, limit int, err error) {
	if since, err = timeParam(v, "since", now); err != nil {
		return
	}
	if until, err = timeParam(v, "until", now); err != nil {
		return
	}
	if !since.IsZero() && !until.IsZero() && !since.Before(until) {
		err = invalid("since", "must be before until")
		return
	}
	if s := v.Get("limit"); s != "" {
		limit, err = strconv.Atoi(s)
		if err != nil || limit < 1 || limit > 1000 {
			err = invalid("limit", "want an integer from 1 to 1000, got %q", s)
		}
	}
	return
}

// timeParam reads an RFC 3339 time, or a duration meaning that long ago
// ("90m", "24h").
func timeParam(v url.Values, name string, now time.Time) (time.Time, error) {
	s := v.Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, invalid(name, "want an RFC 3339 time (2026-01-02T15:04:05Z) or a duration ago (24h), got %q", s)
}
