package console

import (
	"net/http"

	"github.com/hookyard/hookyard/internal/api"
)

// GET /console/dlq: dead deliveries, newest first, filtered by destination,
// route and time; operators select some (or all matching) to replay.
func (c *Console) dlq(w http.ResponseWriter, r *http.Request, q *request) error {
	v := r.URL.Query()
	f := map[string]string{"Destination": v.Get("destination"), "Route": v.Get("route"),
		"Since": v.Get("since"), "Until": v.Get("until")}
	since, until, err := formRange(f["Since"], f["Until"], c.now())
	if err != nil {
		return err
	}
	dl, err := q.client.DLQ(r.Context(), api.DeliveryQuery{Destination: f["Destination"], Route: f["Route"],
		Since: since, Until: until, Cursor: v.Get("cursor")})
	if err != nil {
		return err
	}
	data := map[string]any{"Form": f, "Deliveries": dl.Deliveries, "Next": nextURL(r, dl.NextCursor)}
	data["First"] = firstURL(r)
	c.render(w, r, q.sess, http.StatusOK, "dlq", data)
	return nil
}

// POST /console/dlq/replay: the first post (scope "selected" with ids, or
// "all" with the destination and route filters) only counts, through the
// API's dry run, and asks for confirmation showing the count; the confirmed
// post replays.
func (c *Console) dlqReplay(w http.ResponseWriter, r *http.Request, q *request) error {
	form := r.PostForm
	req := api.ReplayRequest{DryRun: form.Get("confirm") != "yes"}
	switch form.Get("scope") {
	case "all":
		req.All, req.Destination, req.Route = true, form.Get("destination"), form.Get("route")
	case "selected":
		req.IDs = form["id"]
		if len(req.IDs) == 0 {
			return &pageError{status: http.StatusBadRequest, msg: "Select at least one dead letter to replay."}
		}
	default:
		return &pageError{status: http.StatusBadRequest, msg: `scope: want "selected" or "all"`}
	}
	var res api.ReplayResult
	for chunk := range chunks(req) {
		part, err := q.client.DLQReplay(r.Context(), chunk)
		if err != nil {
			return err
		}
		res.Matched += part.Matched
		res.Replayed += part.Replayed
	}
	if !req.DryRun {
		c.log.Info("console dlq replay", "name", q.sess.name, "all", req.All, "destination", req.Destination,
			"route", req.Route, "matched", res.Matched, "replayed", res.Replayed)
	}
	c.render(w, r, q.sess, http.StatusOK, "replay", map[string]any{"Request": req, "Result": res})
	return nil
}

// chunks splits a by-id request into API-sized ones.
func chunks(req api.ReplayRequest) func(func(api.ReplayRequest) bool) {
	return func(yield func(api.ReplayRequest) bool) {
		if req.All {
			yield(req)
			return
		}
		ids := req.IDs
		for len(ids) > 0 {
			n := min(len(ids), api.MaxReplayIDs)
			part := req
			part.IDs = ids[:n]
			if !yield(part) {
				return
			}
			ids = ids[n:]
		}
	}
}
