package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hookyard/hookyard/internal/store"
	"github.com/hookyard/hookyard/internal/webhook"
)

// auditNote is what a handler adds to its request's audit entry.
type auditNote struct {
	record bool   // write an entry (preset for mutating routes)
	target string // what was acted on; preset to the {id} path value
	detail string // a short summary: counts and names, never a body or secret
}

type auditKey struct{}

// noteAudit sets the target and detail of r's audit entry; read marks a
// read that must be recorded too (an unmasked body).
func noteAudit(r *http.Request, target, detail string, read bool) {
	n, _ := r.Context().Value(auditKey{}).(*auditNote)
	if n == nil {
		return
	}
	if target != "" {
		n.target = target
	}
	// A read may note several things (an event's body and its attempts'
	// answers): each is kept once.
	switch {
	case detail == "" || strings.Contains(n.detail, detail):
	case n.detail == "":
		n.detail = detail
	default:
		n.detail += "; " + detail
	}
	n.record = n.record || read
}

// notMutation marks r's POST as a read (a preview): recorded only if a
// later noteAudit asks for it.
func notMutation(r *http.Request) {
	if n, _ := r.Context().Value(auditKey{}).(*auditNote); n != nil {
		n.record = false
	}
}

// statusWriter remembers the status a handler answered.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// requestID returns the caller's X-Request-Id when it is a plausible id
// (so a proxy's id ties the audit entry to its logs), else a new random
// one. Anything else a caller sends is not trusted into the log.
func requestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); len(id) > 0 && len(id) <= 128 && plainID(id) {
		return id
	}
	var b [12]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return "req_" + hex.EncodeToString(b[:])
}

func plainID(s string) bool {
	for _, c := range []byte(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.', c == ':':
		default:
			return false
		}
	}
	return true
}

// outcome classifies an answered status for the audit log.
func outcome(status int) string {
	switch {
	case status < 400:
		return "ok"
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return "denied"
	case status < 500:
		return "rejected"
	}
	return "failed"
}

// record appends r's audit entry. The action has already happened (or been
// refused) and been answered, so a failure to record cannot undo it: it is
// logged as an error for the operator to act on.
func (s *server) record(r *http.Request, caller who, reqID string, status int, n *auditNote) {
	if s.audit == nil {
		return
	}
	e := store.AuditEntry{At: s.now(), Actor: caller.name, Role: caller.role.String(), Action: r.Pattern,
		Target: n.target, RequestID: reqID, Outcome: outcome(status), Status: status, Detail: n.detail}
	if _, err := s.audit.AuditAppend(r.Context(), e); err != nil {
		s.log.Error("audit log append failed", "action", r.Pattern, "by", caller.name, "request_id", reqID,
			"error", err.Error())
	}
}

// GET /api/v1/audit: entries newest first (or oldest first with
// order=asc), filtered by actor, action, target and time.
func (s *server) auditList(w http.ResponseWriter, r *http.Request, _ who) error {
	if s.audit == nil {
		return errNoAudit
	}
	v, err := params(r, auditParams)
	if err != nil {
		return err
	}
	f := store.AuditFilter{Actor: v.Get("actor"), Action: v.Get("action"), Target: v.Get("target"),
		Cursor: v.Get("cursor")}
	switch v.Get("order") {
	case "", "desc":
	case "asc":
		f.Ascending = true
	default:
		return invalid("order", "want asc or desc, got %q", v.Get("order"))
	}
	if f.Since, f.Until, f.Limit, err = common(v, s.now()); err != nil {
		return err
	}
	es, next, err := s.audit.AuditList(r.Context(), f)
	if err != nil {
		return err
	}
	out := AuditList{Entries: make([]AuditEntry, len(es)), NextCursor: next}
	for i := range es {
		out.Entries[i] = auditEntry(&es[i])
	}
	return writeJSON(w, http.StatusOK, out)
}

// verifyPage is how many entries a verification reads per store call.
const verifyPage = 1000

// GET /api/v1/audit/verify: walks the whole log oldest first and checks
// every link of the hash chain.
func (s *server) auditVerify(w http.ResponseWriter, r *http.Request, _ who) error {
	if s.audit == nil {
		return errNoAudit
	}
	if _, err := params(r, nil); err != nil {
		return err
	}
	anchor, err := s.audit.AuditAnchor(r.Context())
	if err != nil {
		return err
	}
	v := store.AuditVerifierFrom(anchor)
	out := AuditVerification{OK: true, PrunedThrough: anchor.Seq}
	f := store.AuditFilter{Ascending: true, Limit: verifyPage}
walk:
	for {
		es, next, err := s.audit.AuditList(r.Context(), f)
		if err != nil {
			return err
		}
		for i := range es {
			if err := v.Add(&es[i]); err != nil {
				out.OK, out.Problem, out.FirstBadSeq = false, err.Error(), es[i].Seq
				break walk
			}
		}
		if next == "" {
			break
		}
		f.Cursor = next
	}
	out.Verified, out.HeadHash = v.Count()-anchor.Seq, v.Head()
	out.CheckedAt = s.now().UTC()
	return writeJSON(w, http.StatusOK, out)
}

var errNoAudit = fmt.Errorf("%w: this store keeps no audit log", webhook.ErrNotFound)

func auditEntry(e *store.AuditEntry) AuditEntry {
	return AuditEntry{Seq: e.Seq, At: e.At.UTC(), Actor: e.Actor, Role: e.Role, Action: e.Action, Target: e.Target,
		RequestID: e.RequestID, Outcome: e.Outcome, Status: e.Status, Detail: e.Detail, PrevHash: e.PrevHash,
		Hash: e.Hash}
}

// AuditEntry is one recorded admin action: GET /api/v1/audit.
type AuditEntry struct {
	Seq       int64     `json:"seq"`
	At        time.Time `json:"at"`
	Actor     string    `json:"actor"`
	Role      string    `json:"role"`
	Action    string    `json:"action"` // the route, e.g. "POST /api/v1/dlq/replay"
	Target    string    `json:"target,omitempty"`
	RequestID string    `json:"request_id"`
	Outcome   string    `json:"outcome"` // ok, denied, rejected or failed
	Status    int       `json:"status"`
	Detail    string    `json:"detail,omitempty"`
	PrevHash  string    `json:"prev_hash"`
	Hash      string    `json:"hash"`
}

// AuditList is a page of GET /api/v1/audit. NextCursor is empty on the
// last page.
type AuditList struct {
	Entries    []AuditEntry `json:"entries"`
	NextCursor string       `json:"next_cursor"`
}

// AuditVerification answers GET /api/v1/audit/verify. Verified counts the
// entries whose chain checked out (all of them when OK); HeadHash is the
// last one's hash. The chain shows edits and gaps inside the log; to also
// catch a log cut short or rewritten wholesale, keep the head hash
// elsewhere and check later that the entry with that hash is still there.
type AuditVerification struct {
	OK          bool   `json:"ok"`
	Verified    int64  `json:"verified"`
	HeadHash    string `json:"head_hash"`
	FirstBadSeq int64  `json:"first_bad_seq,omitempty"`
	// PrunedThrough is the last entry removed by retention
	// (retention.audit_max_age); the chain is verified from it.
	PrunedThrough int64     `json:"pruned_through,omitempty"`
	Problem       string    `json:"problem,omitempty"`
	CheckedAt     time.Time `json:"checked_at"`
}

// AuditQuery filters GET /api/v1/audit. Zero fields match all.
type AuditQuery struct {
	Actor     string
	Action    string
	Target    string
	Since     time.Time
	Until     time.Time
	Ascending bool
	Cursor    string
	Limit     int // 1–1000; default 50
}

func (q AuditQuery) values() url.Values {
	v := url.Values{}
	set(v, "actor", q.Actor)
	set(v, "action", q.Action)
	set(v, "target", q.Target)
	if q.Ascending {
		v.Set("order", "asc")
	}
	setCommon(v, q.Since, q.Until, q.Cursor, q.Limit)
	return v
}

// Audit lists audit log entries.
func (c *Client) Audit(ctx context.Context, q AuditQuery) (AuditList, error) {
	var out AuditList
	return out, c.do(ctx, http.MethodGet, "/api/v1/audit", q.values(), nil, &out)
}

// AuditVerify checks the audit log's hash chain on the server.
func (c *Client) AuditVerify(ctx context.Context) (AuditVerification, error) {
	var out AuditVerification
	return out, c.do(ctx, http.MethodGet, "/api/v1/audit/verify", nil, nil, &out)
}
