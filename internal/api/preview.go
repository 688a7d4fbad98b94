package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/hookyard/hookyard/internal/webhook"
)

// RouteSource is the node's routes (internal/route, adapted in
// cmd/hookyard). It is optional: without it the route endpoints answer 404.
type RouteSource interface {
	// Routes lists the configured routes in config order.
	Routes() []RouteInfo
	// Preview runs every stage of the named route on ev without sending
	// anything; the result is the route package's stage report. An unknown
	// name is an error wrapping webhook.ErrNotFound.
	Preview(ctx context.Context, name string, ev *webhook.Event) (any, error)
}

// RouteInfo is one configured route: GET /api/v1/routes.
type RouteInfo struct {
	Name        string `json:"name"`
	Source      string `json:"source"`
	Provider    string `json:"provider"`
	Destination string `json:"destination"`
}

// RouteList is GET /api/v1/routes.
type RouteList struct {
	Routes []RouteInfo `json:"routes"`
}

// PreviewRequest is the body of POST /api/v1/routes/{name}/preview: an
// event as the provider would send it. Body is the JSON body itself.
type PreviewRequest struct {
	Topic string          `json:"topic,omitempty"`
	Body  json.RawMessage `json:"body,omitempty"`
}

// PreviewResult answers POST /api/v1/routes/{name}/preview: what each stage
// of the route makes of the event (envelope, filter match, priority,
// ordering key, version, transform output, shadow output and difference,
// and per-stage errors).
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

var errNoRoutes = fmt.Errorf("%w: routes are not available on this node", webhook.ErrNotFound)

// GET /api/v1/routes
func (s *server) routeList(w http.ResponseWriter, r *http.Request, _ who) error {
	if s.routes == nil {
		return errNoRoutes
	}
	if _, err := params(r, nil); err != nil {
		return err
	}
	out := RouteList{Routes: s.routes.Routes()}
	if out.Routes == nil {
		out.Routes = []RouteInfo{}
	}
	return writeJSON(w, http.StatusOK, out)
}

// POST /api/v1/routes/{name}/preview runs a route on a pasted event. It
// takes the event from the caller, never from the store, so it shows no
// more of a stored body than the caller could already read.
func (s *server) routePreview(w http.ResponseWriter, r *http.Request, _ who) error {
	if s.routes == nil {
		return errNoRoutes
	}
	var req PreviewRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	if len(req.Body) == 0 || string(req.Body) == "null" {
		return invalid("body", "give the event body (a JSON value)")
	}
	name := r.PathValue("name")
	var src RouteInfo
	found := false
	for _, ri := range s.routes.Routes() {
		if ri.Name == name {
			src, found = ri, true
		}
	}
	if !found {
		return fmt.Errorf("%w: no route named %q", webhook.ErrNotFound, name)
	}
	now := s.now()
	ev := &webhook.Event{ID: webhook.NewID("evt_", now), Source: src.Source, Provider: src.Provider,
		Topic: req.Topic, ReceivedAt: now, Headers: http.Header{"Content-Type": {"application/json"}},
		Body: req.Body}
	st, err := s.routes.Preview(r.Context(), name, ev)
	if err != nil {
		return err
	}
	// The stage report is the route package's; it crosses as JSON.
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode preview: %w", err)
	}
	var out PreviewResult
	if err := json.Unmarshal(b, &out); err != nil {
		return fmt.Errorf("decode preview: %w", err)
	}
	return writeJSON(w, http.StatusOK, out)
}

// Routes lists the configured routes.
func (c *Client) Routes(ctx context.Context) (RouteList, error) {
	var out RouteList
	return out, c.do(ctx, http.MethodGet, "/api/v1/routes", nil, nil, &out)
}

// PreviewRoute runs the named route's stages on an event without sending.
func (c *Client) PreviewRoute(ctx context.Context, name string, req PreviewRequest) (PreviewResult, error) {
	var out PreviewResult
	return out, c.do(ctx, http.MethodPost, "/api/v1/routes/"+url.PathEscape(name)+"/preview", nil, req, &out)
}
