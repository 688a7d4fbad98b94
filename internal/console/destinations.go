package console

import (
	"net/http"
	"net/url"
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
func (c *Console) destinationAction(w http.ResponseWriter, r *http.Request, q *request) error {
	name, action := r.PathValue("name"), r.PathValue("action")
	if _, ok := destinationNotices[action]; !ok {
		return &pageError{status: http.StatusNotFound, msg: "No destination action " + action}
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
