package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"
)

// maxRequestBody bounds JSON request bodies (1000 ids fit many times over).
const maxRequestBody = 1 << 20

// replayPage is how many dead deliveries an "all" replay reads and replays
// per step: one store page and one replay call.
const replayPage = 500

// GET /api/v1/dlq: deliveries in state dead, newest first.
func (s *server) dlqList(w http.ResponseWriter, r *http.Request, _ who) error {
	f, err := deliveryFilter(r, s.now(), false)
	if err != nil {
		return err
	}
	return s.writeDeliveries(w, r.Context(), deadFilter(f))
}

// POST /api/v1/dlq/replay: replay dead deliveries by id, or all of them
// matching a filter (destination, route, error class of the last attempt,
// creation time range); states widens the selection to cancelled or
// succeeded deliveries. Replay keeps each delivery's
// idempotency key and resets its attempt budget.
//
// With rate (deliveries per second), the replayed deliveries become due
// spread out at that rate, a tenth of a second's worth at a time, so a
// destination recovering from an outage is not flooded; the answer's
// due_until says when the last of them becomes due. Without it they are all
// due at once.
func (s *server) dlqReplay(w http.ResponseWriter, r *http.Request, caller who) error {
	var req ReplayRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	switch {
	case req.All && len(req.IDs) > 0:
		return invalid("ids", "give ids or all, not both")
	case !req.All && len(req.IDs) == 0:
		return invalid("ids", `give the ids to replay, or "all": true for the whole dead-letter queue`)
	case !req.All && (req.Destination != "" || req.Route != "" || len(req.ErrorClasses) > 0 || req.Since != "" || req.Until != ""):
		return invalid("destination", `destination, route, error_classes, since and until filter only "all": true; with ids, give the ids`)
	case len(req.IDs) > MaxReplayIDs:
		return invalid("ids", "%d ids in one request; send at most %d per request", len(req.IDs), MaxReplayIDs)
	case req.Rate < 0 || req.Rate > maxReplayRate || math.IsNaN(req.Rate):
		return invalid("rate", "want deliveries per second between 0 (no pacing) and %d", maxReplayRate)
	}
	since, until, _, err := common(url.Values{"since": {req.Since}, "until": {req.Until}}, s.now())
	if err != nil {
		return err
	}
	for _, c := range req.ErrorClasses {
		if err := checkErrorClass(c); err != nil {
			return err
		}
	}
	states, err := replayStates(req.States)
	if err != nil {
		return err
	}
	f := store.DeliveryFilter{Destination: req.Destination, Route: req.Route, ErrorClasses: req.ErrorClasses,
		States: states, Since: since, Until: until}
	var res ReplayResult
	p := &replayPacer{store: s.store, start: s.now(), rate: req.Rate}
	if req.All {
		res, err = s.replayAll(r.Context(), req.DryRun, f, p)
	} else {
		res, err = s.replayIDs(r.Context(), req, states, p)
	}
	if res.Replayed > 0 && req.Rate > 0 {
		res.DueUntil = utc(p.last)
	}
	if err != nil {
		return err
	}
	noteAudit(r, strings.Join(req.IDs, ","), replayDetail(req, res), false)
	if !req.DryRun {
		s.log.Info("dlq replay", "by", caller.name, "all", req.All, "destination", req.Destination,
			"route", req.Route, "error_classes", strings.Join(req.ErrorClasses, ","), "states", strings.Join(req.States, ","),
			"matched", res.Matched, "replayed", res.Replayed)
	}
	return writeJSON(w, http.StatusOK, res)
}

// replayDetail summarizes a DLQ replay for the audit log.
func replayDetail(req ReplayRequest, res ReplayResult) string {
	sel := fmt.Sprintf("%d ids", len(req.IDs))
	if req.All {
		sel = "all"
		if req.Destination != "" {
			sel += " destination=" + req.Destination
		}
		if req.Route != "" {
			sel += " route=" + req.Route
		}
	}
	if req.DryRun {
		return fmt.Sprintf("dry run: %s, matched %d", sel, res.Matched)
	}
	return fmt.Sprintf("%s: matched %d, replayed %d", sel, res.Matched, res.Replayed)
}

// replayIDs replays the listed deliveries that are dead; others (unknown,
// live, or terminal but not dead) are not in the DLQ and are skipped.
func (s *server) replayIDs(ctx context.Context, req ReplayRequest, states []webhook.State, p *replayPacer) (ReplayResult, error) {
	res := ReplayResult{DryRun: req.DryRun}
	seen := make(map[string]bool, len(req.IDs))
	var dead []string
	for i, id := range req.IDs {
		if id == "" {
			return res, invalid(fmt.Sprintf("ids[%d]", i), "empty id")
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		d, err := s.store.DeliveryGet(ctx, id)
		switch {
		case errors.Is(err, webhook.ErrNotFound):
			continue
		case err != nil:
			return res, err
		case slices.Contains(states, d.State):
			dead = append(dead, id)
		}
	}
	res.Matched = len(dead)
	if req.DryRun || len(dead) == 0 {
		return res, nil
	}
	n, err := p.replay(ctx, dead)
	res.Replayed = n
	return res, err
}

// replayAll replays every dead delivery matching the filters, a page at a
// time. Keyset pagination by id stays correct while replayed rows leave the
// queue.
func (s *server) replayAll(ctx context.Context, dryRun bool, f store.DeliveryFilter, p *replayPacer) (ReplayResult, error) {
	res := ReplayResult{DryRun: dryRun}
	var err error
	if res.Matched, err = s.store.DeliveryCount(ctx, f); err != nil || dryRun {
		return res, err
	}
	f.Limit = replayPage
	for {
		ds, next, err := s.store.DeliveryList(ctx, f)
		if err != nil {
			return res, err
		}
		ids := make([]string, len(ds))
		for i := range ds {
			ids[i] = ds[i].ID
		}
		if len(ids) > 0 {
			n, err := p.replay(ctx, ids)
			res.Replayed += n
			if err != nil {
				return res, err
			}
		}
		if next == "" {
			return res, nil
		}
		f.Cursor = next
	}
}

// maxReplayRate bounds ReplayRequest.Rate.
const maxReplayRate = 100000

// replayPacer replays deliveries with due times spread at rate per second
// from start (all due at start when rate is 0), in buckets of a tenth of a
// second's worth, across however many calls a bulk replay makes.
type replayPacer struct {
	store interface {
		DeliveryReplay(ctx context.Context, ids []string, due time.Time) (int, error)
	}
	start time.Time
	rate  float64
	n     int       // deliveries scheduled so far
	last  time.Time // due time of the last bucket used
}

func (p *replayPacer) replay(ctx context.Context, ids []string) (int, error) {
	if p.rate <= 0 {
		p.last = p.start
		return p.store.DeliveryReplay(ctx, ids, p.start)
	}
	step := max(1, int(math.Ceil(p.rate/10)))
	total := 0
	for len(ids) > 0 {
		k := min(step-p.n%step, len(ids))
		bucket := p.n - p.n%step
		p.last = p.start.Add(time.Duration(float64(bucket) / p.rate * float64(time.Second)))
		n, err := p.store.DeliveryReplay(ctx, ids[:k], p.last)
		total += n
		if err != nil {
			return total, err
		}
		p.n += n
		ids = ids[k:]
	}
	return total, nil
}

// replayStates checks the states a replay may select: terminal ones only;
// none means dead.
func replayStates(in []string) ([]webhook.State, error) {
	if len(in) == 0 {
		return []webhook.State{webhook.StateDead}, nil
	}
	var out []webhook.State
	for _, s := range in {
		st := webhook.State(s)
		switch st {
		case webhook.StateDead, webhook.StateCancelled, webhook.StateSucceeded:
			if !slices.Contains(out, st) {
				out = append(out, st)
			}
		default:
			return nil, invalid("states", "%q cannot be replayed (want dead, cancelled or succeeded)", s)
		}
	}
	return out, nil
}

// deadFilter narrows f to the dead-letter queue.
func deadFilter(f store.DeliveryFilter) store.DeliveryFilter {
	f.States = []webhook.State{webhook.StateDead}
	return f
}

// readJSON decodes a bounded JSON request body into v, strictly: unknown
// fields and trailing data are errors that name what is wrong.
func readJSON(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequestBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.Decode(&struct{}{}) != io.EOF {
		err = errors.New("trailing data after the JSON object")
	}
	var tooLarge *http.MaxBytesError
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &tooLarge):
		return fmt.Errorf("%w: the request body exceeds %d bytes", webhook.ErrTooLarge, maxRequestBody)
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return invalid(typeErr.Field, "want a JSON %s, got %s", typeErr.Type, typeErr.Value)
	case errors.Is(err, io.EOF):
		return invalid("body", "empty; send a JSON object")
	}
	return invalid("body", "%v", err)
}
