package console

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/hookyard/hookyard/internal/webhook"
)

// GET /console/drift: every tracked (source, topic) with the paths that
// drifted from its baseline.
func (c *Console) drift(w http.ResponseWriter, r *http.Request, q *request) error {
	v := r.URL.Query()
	l, err := q.client.Drift(r.Context(), v.Get("source"), "")
	if errors.Is(err, webhook.ErrNotFound) {
		c.render(w, r, q.sess, http.StatusOK, "drift", map[string]any{"Off": true})
		return nil
	}
	if err != nil {
		return err
	}
	data := map[string]any{"Source": v.Get("source"), "Streams": l.Streams}
	if v.Get("notice") == "frozen" {
		data["Notice"] = "Baseline of " + v.Get("stream") + " frozen: its drift is accepted."
	}
	c.render(w, r, q.sess, http.StatusOK, "drift", data)
	return nil
}

// POST /console/drift/freeze: accept a stream's drift (operator; the API
// checks the role and records it in the audit log).
func (c *Console) driftFreeze(w http.ResponseWriter, r *http.Request, q *request) error {
	source, topic := r.PostForm.Get("source"), r.PostForm.Get("topic")
	rep, err := q.client.DriftFreeze(r.Context(), source, topic)
	if err != nil {
		return err
	}
	c.log.Info("console drift freeze", "name", q.sess.name, "source", rep.Source, "topic", rep.Topic)
	u := url.Values{"notice": {"frozen"}, "stream": {rep.Source + " " + rep.Topic}}
	http.Redirect(w, r, "/console/drift?"+u.Encode(), http.StatusSeeOther)
	return nil
}
