package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/hookyard/hookyard/internal/api"
	"github.com/hookyard/hookyard/internal/webhook"
)

// previewForm is the route playground's form, echoed back into it.
type previewForm struct {
	Route, Topic, Body, Event string
}

// GET /console/routes: the configured routes and, for operators, the
// preview playground; ?event=ID fills it with a stored event's body as the
// user may read it (masked where the API masks it).
func (c *Console) routeList(w http.ResponseWriter, r *http.Request, q *request) error {
	f := previewForm{Route: r.URL.Query().Get("route"), Event: strings.TrimSpace(r.URL.Query().Get("event"))}
	if f.Event != "" {
		ev, err := q.client.Event(r.Context(), f.Event)
		if err != nil {
			return err
		}
		body, err := ev.RawBody()
		if err != nil {
			return err
		}
		f.Topic, f.Body = ev.Topic, indentJSON(body)
		if f.Route == "" {
			f.Route = c.firstRoute(r, q, ev.Source)
		}
	}
	return c.renderRoutes(w, r, q, f, nil)
}

// firstRoute names the first route of source, if any.
func (c *Console) firstRoute(r *http.Request, q *request, source string) string {
	rl, err := q.client.Routes(r.Context())
	if err != nil {
		return ""
	}
	for _, rt := range rl.Routes {
		if rt.Source == source {
			return rt.Name
		}
	}
	return ""
}

// POST /console/routes/preview
func (c *Console) routePreview(w http.ResponseWriter, r *http.Request, q *request) error {
	f := previewForm{Route: r.PostForm.Get("route"), Topic: r.PostForm.Get("topic"), Body: r.PostForm.Get("body")}
	if !json.Valid([]byte(f.Body)) {
		return c.renderRoutes(w, r, q, f, &previewView{Error: "The body is not valid JSON."})
	}
	res, err := q.client.PreviewRoute(r.Context(), f.Route, api.PreviewRequest{Topic: f.Topic, Body: json.RawMessage(f.Body)})
	if err != nil {
		return err
	}
	pv := &previewView{Result: res, Envelope: highlightJSONValue(res.Envelope), Output: highlightJSONValue(res.Output),
		Shadow: highlightJSONValue(res.Shadow), Diff: highlightJSONValue(res.ShadowDiff)}
	return c.renderRoutes(w, r, q, f, pv)
}

// previewView is a preview's stages ready for the page.
type previewView struct {
	Error                          string
	Result                         api.PreviewResult
	Envelope, Output, Shadow, Diff shownBody
}

func (c *Console) renderRoutes(w http.ResponseWriter, r *http.Request, q *request, f previewForm, pv *previewView) error {
	rl, err := q.client.Routes(r.Context())
	if errors.Is(err, webhook.ErrNotFound) {
		c.render(w, r, q.sess, http.StatusOK, "routes", map[string]any{"NoRoutes": true})
		return nil
	}
	if err != nil {
		return err
	}
	status := http.StatusOK
	if pv != nil && pv.Error != "" {
		status = http.StatusBadRequest
	}
	c.render(w, r, q.sess, status, "routes", map[string]any{"Routes": rl.Routes, "Form": f, "Preview": pv})
	return nil
}

// highlightJSONValue highlights a JSON value from the API ("" when absent).
func highlightJSONValue(raw json.RawMessage) shownBody {
	if len(raw) == 0 || string(raw) == "null" {
		return shownBody{}
	}
	return highlightBody(raw, api.EncodingJSON)
}

// indentJSON indents a JSON body for the playground's text area, keeping
// its key order and numbers; other bodies are returned as they are.
func indentJSON(b []byte) string {
	var buf bytes.Buffer
	if json.Indent(&buf, b, "", "  ") != nil {
		return string(b)
	}
	return buf.String()
}
