package console

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/hookyard/hookyard/internal/webhook"
)

// destinationNotices are the fixed messages the destinations page shows
// after an action redirects back to it.
var destinationNotices = map[string]string{
	"pause":  "paused: its deliveries wait until it is resumed.",
	"resume": "resumed: its waiting deliveries are sent again.",
	"enable": "enabled: its waiting deliveries are sent again.",
}

// POST /console/destinations/{name}/{action}: pause, resume or enable a
// destination through the API, which checks the role (operator) and
// answers 409 when the destination is not in a state the action applies to.
// A pause takes two posts: the first asks for confirmation.
func (c *Console) destinationAction(w http.ResponseWriter, r *http.Request, q *request) error {
	name, action := r.PathValue("name"), r.PathValue("action")
	if _, ok := destinationNotices[action]; !ok {
		return &pageError{status: http.StatusNotFound, msg: "No destination action " + action}
	}
	if action == "pause" && r.PostForm.Get("confirm") != "yes" && q.sess.role != "viewer" {
		// Pausing holds every delivery of the destination on every node,
		// so the first post shows what it holds and asks again. A
		// destination that is not active, or a viewer, goes straight to
		// the API, which answers why not.
		d, err := q.client.Destination(r.Context(), name)
		if err != nil && !errors.Is(err, webhook.ErrNotFound) {
			return err
		}
		if err == nil && d.Status == "active" {
			c.render(w, r, q.sess, http.StatusOK, "pause", map[string]any{"Destination": d,
				"Reason": r.PostForm.Get("reason")})
			return nil
		}
	}
	d, err := q.client.DestinationAction(r.Context(), name, action, r.PostForm.Get("reason"))
	if err != nil {
		return err
	}
	c.log.Info("console destination action", "name", q.sess.name, "destination", d.Name, "action", action,
		"status", d.Status)
	v := url.Values{"notice": {action}, "destination": {d.Name}}
	http.Redirect(w, r, "/console/destinations?"+v.Encode()+"#dest-"+url.PathEscape(d.Name), http.StatusSeeOther)
	return nil
}
