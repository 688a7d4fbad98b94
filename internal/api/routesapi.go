package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/hookyard/hookyard/internal/route"
	"github.com/hookyard/hookyard/internal/transform"
	"github.com/hookyard/hookyard/internal/webhook"
)

// RouteTable is the node's compiled routes (*route.Table). It is optional:
// without it the route endpoints answer 404.
type RouteTable interface {
	Routes() []*route.Route
	Preview(ctx context.Context, name string, ev *webhook.Event) (*route.Stages, error)
	ShadowReport(name string) (route.ShadowReport, error)
}

// ShadowReport answers GET /api/v1/routes/{name}/shadow: how the route's
// shadow transform compared with the live one on this node since it
// started. ValuesWithheld says the old and new values were left out of
// the changes (a caller below admin while admin.pii_paths is set: the
// values come from event bodies).
type ShadowReport struct {
	route.ShadowReport
	ValuesWithheld bool `json:"values_withheld,omitempty"`
}

// RouteInfo describes a route: GET /api/v1/routes. The booleans say which
// stages it has.
type RouteInfo struct {
	Name          string  `json:"name"`
	Source        string  `json:"source"`
	Destination   string  `json:"destination"`
	Version       string  `json:"version"`
	Filter        bool    `json:"filter"`
	Priority      bool    `json:"priority"`
	OrderingKey   bool    `json:"ordering_key"`
	Transform     bool    `json:"transform"`
	Shadow        bool    `json:"shadow"`
	CanaryVersion string  `json:"canary_version,omitempty"`
	CanaryPercent float64 `json:"canary_percent,omitempty"`
}

// RouteList answers GET /api/v1/routes, sorted by name.
type RouteList struct {
	Routes []RouteInfo `json:"routes"`
}

// PreviewRequest is the body of POST /api/v1/routes/{name}/preview: a
// stored event by EventID, or a pasted Body (with an optional Topic and
// Provider, as the provider would send them).
type PreviewRequest struct {
	EventID  string          `json:"event_id,omitempty"`
	Body     json.RawMessage `json:"body,omitempty"`
	Topic    string          `json:"topic,omitempty"`
	Provider string          `json:"provider,omitempty"`
}

var errNoRoutes = fmt.Errorf("%w: no route table on this node", webhook.ErrNotFound)

// GET /api/v1/routes
func (s *server) routeList(w http.ResponseWriter, r *http.Request, _ who) error {
	if s.routes == nil {
		return errNoRoutes
	}
	if _, err := params(r, nil); err != nil {
		return err
	}
	out := RouteList{Routes: []RouteInfo{}}
	for _, rt := range s.routes.Routes() {
		info := RouteInfo{Name: rt.Name, Source: rt.Source, Destination: rt.Destination, Version: rt.Version,
			Filter: rt.Filter != nil, Priority: rt.Priority != nil, OrderingKey: rt.OrderingKey != nil,
			Transform: rt.Transform != nil, Shadow: rt.Shadow != nil}
		if rt.Canary != nil {
			info.CanaryVersion, info.CanaryPercent = rt.CanaryVersion, rt.CanaryPercent
		}
		out.Routes = append(out.Routes, info)
	}
	return writeJSON(w, http.StatusOK, out)
}

// POST /api/v1/routes/{name}/preview: runs every stage of a route on an
// event without sending anything. A stored event's stages show its body
// unmasked (the envelope, the transform's output), so while PII paths are
// configured only an admin may preview one, and that read is audited; a
// pasted body is the caller's own and any role may preview it.
func (s *server) routePreview(w http.ResponseWriter, r *http.Request, caller who) error {
	notMutation(r)
	if s.routes == nil {
		return errNoRoutes
	}
	var req PreviewRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	name := r.PathValue("name")
	var ev webhook.Event
	switch {
	case req.EventID != "" && len(req.Body) > 0:
		return invalid("event_id", "give event_id or body, not both")
	case req.EventID != "" && (req.Topic != "" || req.Provider != ""):
		return invalid("topic", "topic and provider go with a pasted body; a stored event has its own")
	case req.EventID != "":
		if len(s.pii) > 0 && caller.role < roleAdmin {
			return fmt.Errorf("%w: previewing a stored event shows its body unmasked, which needs role admin while admin.pii_paths is set; paste the body instead",
				webhook.ErrForbidden)
		}
		var err error
		if ev, err = s.store.EventGet(r.Context(), req.EventID); err != nil {
			return err
		}
		if len(s.pii) > 0 {
			noteAudit(r, ev.ID, "unmasked body: preview of route "+name, true)
		}
	case len(req.Body) > 0:
		now := s.now()
		rt, ok := s.findRoute(name)
		if !ok {
			return fmt.Errorf("%w: no route %q", webhook.ErrNotFound, name)
		}
		ev = webhook.Event{ID: webhook.NewID("evt_", now), Source: rt.Source, Provider: req.Provider, Topic: req.Topic,
			ReceivedAt: now, Headers: http.Header{"Content-Type": {"application/json"}}, Body: req.Body}
	default:
		return invalid("body", "give event_id (a stored event) or body (a pasted JSON body)")
	}
	st, err := s.routes.Preview(r.Context(), name, &ev)
	if errors.Is(err, route.ErrNoRoute) {
		return fmt.Errorf("%w: no route %q", webhook.ErrNotFound, name)
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, st)
}

// GET /api/v1/routes/{name}/shadow. The changes carry values from the
// transforms' outputs, which come from event bodies; while PII paths are
// configured, roles below admin get the paths and kinds without values,
// and an admin's read is audited, as with a stored event's preview.
func (s *server) routeShadow(w http.ResponseWriter, r *http.Request, caller who) error {
	if s.routes == nil {
		return errNoRoutes
	}
	if _, err := params(r, nil); err != nil {
		return err
	}
	name := r.PathValue("name")
	rep, err := s.routes.ShadowReport(name)
	switch {
	case errors.Is(err, route.ErrNoRoute):
		return fmt.Errorf("%w: no route %q", webhook.ErrNotFound, name)
	case errors.Is(err, route.ErrNoShadow):
		return fmt.Errorf("%w: route %q has no shadow transform", webhook.ErrNotFound, name)
	case err != nil:
		return err
	}
	out := ShadowReport{ShadowReport: rep}
	if len(s.pii) > 0 {
		if caller.role < roleAdmin {
			out.ValuesWithheld = true
			for i := range out.Diffs {
				changes := make([]transform.Change, len(out.Diffs[i].Changes))
				for j, c := range out.Diffs[i].Changes {
					changes[j] = transform.Change{Path: c.Path, Kind: c.Kind}
				}
				out.Diffs[i].Changes = changes
			}
		} else if len(out.Diffs) > 0 {
			noteAudit(r, name, "unmasked values: shadow differences of route "+name, true)
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

// findRoute finds a route by name.
func (s *server) findRoute(name string) (*route.Route, bool) {
	for _, rt := range s.routes.Routes() {
		if rt.Name == name {
			return rt, true
		}
	}
	return nil, false
}

// Routes lists the node's routes.
func (c *Client) Routes(ctx context.Context) (RouteList, error) {
	var out RouteList
	return out, c.do(ctx, http.MethodGet, "/api/v1/routes", nil, nil, &out)
}

// Shadow returns how a route's shadow transform compared with the live one.
func (c *Client) Shadow(ctx context.Context, name string) (ShadowReport, error) {
	var out ShadowReport
	return out, c.do(ctx, http.MethodGet, "/api/v1/routes/"+url.PathEscape(name)+"/shadow", nil, nil, &out)
}

// PreviewResult is a preview's stages (route.Stages) as the client reads
// them: values stay raw JSON, so large order ids keep every digit.
type PreviewResult struct {
	Route       string            `json:"route"`
	Envelope    json.RawMessage   `json:"envelope"`
	Matched     bool              `json:"matched"`
	Priority    string            `json:"priority"`
	OrderingKey string            `json:"ordering_key,omitempty"`
	Version     string            `json:"version"`
	Canary      bool              `json:"canary"`
	Output      json.RawMessage   `json:"output,omitempty"`
	Shadow      json.RawMessage   `json:"shadow,omitempty"`
	ShadowDiff  json.RawMessage   `json:"shadow_diff,omitempty"`
	Errors      map[string]string `json:"errors,omitempty"`
}

// PreviewRoute runs a route's stages on a stored or pasted event.
func (c *Client) PreviewRoute(ctx context.Context, name string, req PreviewRequest) (PreviewResult, error) {
	var out PreviewResult
	return out, c.do(ctx, http.MethodPost, "/api/v1/routes/"+url.PathEscape(name)+"/preview", nil, req, &out)
}
