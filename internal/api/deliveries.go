package api

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/hookyard/hookyard/internal/store"
)

// GET /api/v1/deliveries
func (s *server) deliveryList(w http.ResponseWriter, r *http.Request, _ who) error {
	f, err := deliveryFilter(r, s.now(), true)
	if err != nil {
		return err
	}
	return s.writeDeliveries(w, r.Context(), f)
}

func (s *server) writeDeliveries(w http.ResponseWriter, ctx context.Context, f store.DeliveryFilter) error {
	ds, next, err := s.store.DeliveryList(ctx, f)
	if err != nil {
		return err
	}
	out := DeliveryList{Deliveries: make([]Delivery, len(ds)), NextCursor: next}
	for i := range ds {
		out.Deliveries[i] = delivery(&ds[i])
	}
	return writeJSON(w, http.StatusOK, out)
}

// GET /api/v1/deliveries/{id}
func (s *server) deliveryGet(w http.ResponseWriter, r *http.Request, caller who) error {
	ctx := r.Context()
	d, err := s.store.DeliveryGet(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	as, err := s.store.AttemptList(ctx, d.ID)
	if err != nil {
		return err
	}
	out := DeliveryDetail{Delivery: delivery(&d), Attempts: attempts(as)}
	var body []byte
	if len(s.pii) > 0 && caller.role < roleAdmin && len(as) > 0 {
		// The event's PII values are masked wherever an answer echoes them.
		ev, err := s.store.EventGet(ctx, d.EventID)
		if err != nil {
			return err
		}
		body = ev.Body
	}
	s.showAttempts(r, caller, d.ID, body, out.Attempts)
	return writeJSON(w, http.StatusOK, out)
}

// POST /api/v1/deliveries/{id}/replay: a terminal delivery (dead,
// cancelled or succeeded) becomes pending with a fresh attempt budget and
// the same idempotency key. Answers the delivery as it now is.
func (s *server) deliveryReplay(w http.ResponseWriter, r *http.Request, caller who) error {
	return s.deliveryAction(w, r, caller, "replay", "a live (pending or in-flight) delivery cannot be replayed",
		s.store.DeliveryReplay)
}

// POST /api/v1/deliveries/{id}/cancel: a live delivery ends without further
// attempts. Answers the delivery as it now is.
func (s *server) deliveryCancel(w http.ResponseWriter, r *http.Request, caller who) error {
	return s.deliveryAction(w, r, caller, "cancel", "only a pending or in-flight delivery can be cancelled",
		s.store.DeliveryCancel)
}

func (s *server) deliveryAction(w http.ResponseWriter, r *http.Request, caller who, verb, conflict string,
	do func(ctx context.Context, ids []string, now time.Time) (int, error)) error {
	ctx := r.Context()
	id := r.PathValue("id")
	before, err := s.store.DeliveryGet(ctx, id)
	if err != nil {
		return err
	}
	n, err := do(ctx, []string{id}, s.now())
	if err != nil {
		return err
	}
	d, err := s.store.DeliveryGet(ctx, id)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%w: delivery %s is %s: %s", errConflict, id, d.State, conflict)
	}
	noteAudit(r, id, fmt.Sprintf("%s: %s -> %s (event %s, destination %s)", verb, before.State, d.State, d.EventID,
		d.Destination), false)
	s.log.Info("delivery "+verb, "delivery_id", id, "event_id", d.EventID, "destination", d.Destination,
		"by", caller.name)
	return writeJSON(w, http.StatusOK, delivery(&d))
}
