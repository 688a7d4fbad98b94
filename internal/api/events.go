package api

import (
	"net/http"

	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/tracing"
)

// GET /api/v1/events
func (s *server) eventList(w http.ResponseWriter, r *http.Request, _ who) error {
	f, err := eventFilter(r, s.now())
	if err != nil {
		return err
	}
	es, next, err := s.store.EventList(r.Context(), f)
	if err != nil {
		return err
	}
	out := EventList{Events: make([]Event, len(es)), NextCursor: next}
	for i := range es {
		out.Events[i] = eventSummary(&es[i])
	}
	return writeJSON(w, http.StatusOK, out)
}

// GET /api/v1/events/{id}: the event with masked headers, its body (PII
// paths masked below admin), its trace id, and every delivery it fanned
// out to with its attempts.
func (s *server) eventGet(w http.ResponseWriter, r *http.Request, caller who) error {
	ctx := r.Context()
	ev, err := s.store.EventGet(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	out := eventDetail(&ev)
	out.TraceID = tracing.TraceID(ev.ID)
	s.showBody(r, caller, &out)
	// An event has one delivery per matching route: a handful, so one page.
	ds, _, err := s.store.DeliveryList(ctx, store.DeliveryFilter{EventID: ev.ID, Limit: 1000})
	if err != nil {
		return err
	}
	out.Deliveries = make([]Delivery, len(ds))
	histories := make([][]Attempt, len(ds))
	for i := range ds {
		as, err := s.store.AttemptList(ctx, ds[i].ID)
		if err != nil {
			return err
		}
		out.Deliveries[i] = delivery(&ds[i])
		out.Deliveries[i].History = attempts(as)
		histories[i] = out.Deliveries[i].History
	}
	s.showAttempts(r, caller, ev.ID, ev.Body, histories...)
	return writeJSON(w, http.StatusOK, out)
}
