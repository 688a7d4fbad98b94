package console

import (
	"net/http"
	"strings"

	"github.com/hookyard/hookyard/internal/api"
)

// auditForm is the audit page's filter form, echoed back into it.
type auditForm struct {
	Actor, Action, Target, Since, Until string
}

// GET /console/audit: the audit log newest first, filtered by actor,
// action, target and time, in keyset pages. Admins only — the API refuses
// anyone else, and this page shows its refusal.
func (c *Console) audit(w http.ResponseWriter, r *http.Request, q *request) error {
	return c.auditPage(w, r, q, nil)
}

// GET /console/audit/verify: the audit page topped by a check of the
// whole hash chain (a read, so no CSRF token is needed).
func (c *Console) auditVerify(w http.ResponseWriter, r *http.Request, q *request) error {
	res, err := q.client.AuditVerify(r.Context())
	if err != nil {
		return err
	}
	return c.auditPage(w, r, q, &res)
}

func (c *Console) auditPage(w http.ResponseWriter, r *http.Request, q *request, verified *api.AuditVerification) error {
	v := r.URL.Query()
	f := auditForm{Actor: strings.TrimSpace(v.Get("actor")), Action: strings.TrimSpace(v.Get("action")),
		Target: strings.TrimSpace(v.Get("target")), Since: v.Get("since"), Until: v.Get("until")}
	since, until, err := formRange(f.Since, f.Until, c.now())
	if err != nil {
		return err
	}
	al, err := q.client.Audit(r.Context(), api.AuditQuery{Actor: f.Actor, Action: f.Action, Target: f.Target,
		Since: since, Until: until, Cursor: v.Get("cursor")})
	if err != nil {
		return err
	}
	data := map[string]any{"Form": f, "Entries": al.Entries, "Verified": verified, "Actions": auditActions}
	if verified == nil {
		data["Next"], data["First"] = nextURL(r, al.NextCursor), firstURL(r)
	}
	c.render(w, r, q.sess, http.StatusOK, "audit", data)
	return nil
}

// auditActions are the recorded actions offered in the filter's list: the
// admin API's mutating routes and its auditable reads.
var auditActions = []string{
	"POST /api/v1/deliveries/{id}/replay",
	"POST /api/v1/deliveries/{id}/cancel",
	"POST /api/v1/dlq/replay",
	"POST /api/v1/routes/{name}/preview",
	"POST /api/v1/tokens",
	"DELETE /api/v1/tokens/{id}",
	"GET /api/v1/events/{id}",
	"GET /api/v1/quarantine",
}
