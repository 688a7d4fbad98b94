package api

import (
	"fmt"
	"net/http"

	"github.com/hookyard/hookyard/internal/store"
)

// GET /api/v1/quarantine: authentic requests that failed validation, newest
// first, each with its reason, masked headers and body (PII paths masked
// below admin).
func (s *server) quarantineList(w http.ResponseWriter, r *http.Request, caller who) error {
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
		if caller.role < roleAdmin {
			s.pii.maskBody(&out.Items[i].Event)
		}
	}
	if caller.role >= roleAdmin && len(s.pii) > 0 && len(qs) > 0 {
		noteAudit(r, "", fmt.Sprintf("unmasked bodies of %d quarantined requests", len(qs)), true)
	}
	return writeJSON(w, http.StatusOK, out)
}
