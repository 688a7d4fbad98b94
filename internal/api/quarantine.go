package api

import (
	"net/http"

	"github.com/hookyard/hookyard/internal/store"
)

// GET /api/v1/quarantine: authentic requests that failed validation, newest
// first, each with its reason, masked headers and body.
func (s *server) quarantineList(w http.ResponseWriter, r *http.Request, _ who) error {
	v, err := params(r, quarantineParams)
	if err != nil {
		return err
	}
	f := store.QuarantineFilter{Source: v.Get("source"), Cursor: v.Get("cursor"), WithBody: true}
	if _, _, f.Limit, err = common(v, s.now()); err != nil {
		return err
	}
	qs, next, err := s.store.QuarantineList(r.Context(), f)
	if err != nil {
		return err
	}
	out := QuarantineList{Items: make([]Quarantined, len(qs)), NextCursor: next}
	for i := range qs {
		out.Items[i] = Quarantined{Event: eventDetail(&qs[i].Event), Reason: qs[i].Reason}
	}
	return writeJSON(w, http.StatusOK, out)
}
