package api_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookyard/hookyard/internal/api"
	"github.com/hookyard/hookyard/internal/webhook"
)

// createToken creates a stored token with role through the API, as admin.
func (f *fixture) createToken(t testing.TB, role string) api.CreatedToken {
	t.Helper()
	f.mu.Lock()
	f.seq++
	name := fmt.Sprintf("tok-%d", f.seq)
	f.mu.Unlock()
	tok, err := f.client(adminToken).CreateToken(context.Background(), api.TokenRequest{Name: name, Role: role})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestTokenLifecycle(t *testing.T) {
	f := setup(t)
	s := f.seed(t)
	ctx := context.Background()
	admin := f.client(adminToken)

	created, err := admin.CreateToken(ctx, api.TokenRequest{Name: "ci-replayer", Role: "operator", ExpiresIn: "48h"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(created.Token, "hyt_") || len(created.Token) < 60 || created.ID == "" ||
		created.State != "active" || created.CreatedBy != "root" || !created.ExpiresAt.Equal(t0.Add(48*time.Hour)) {
		t.Fatalf("created = %+v", created)
	}
	// The token is not stored: nothing in the database contains it.
	db := f.rawDB(t)
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM api_tokens WHERE instr(CAST(digest AS TEXT), ?) > 0 OR instr(name, ?) > 0`,
		created.Token, created.Token).Scan(&n); err != nil || n != 0 {
		t.Fatalf("token found in the database: %d, %v", n, err)
	}

	// It authenticates with its role, and records its use.
	ci := f.client(created.Token)
	id, err := ci.Whoami(ctx)
	if err != nil || id != (api.Identity{Name: "ci-replayer", Role: "operator", TokenID: created.ID}) {
		t.Fatalf("whoami = %+v, %v", id, err)
	}
	if _, err := ci.ReplayDelivery(ctx, s.wooCRM); err != nil {
		t.Fatalf("operator token cannot replay: %v", err)
	}
	if _, err := ci.CreateToken(ctx, api.TokenRequest{Name: "x", Role: "admin"}); !errors.Is(err, webhook.ErrForbidden) {
		t.Fatalf("operator token created a token: %v", err)
	}
	list, err := admin.Tokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got api.TokenInfo
	for _, ti := range list.Tokens {
		if ti.ID == created.ID {
			got = ti
		}
	}
	if !got.LastUsedAt.Equal(t0) || got.Role != "operator" || got.Source != "api" {
		t.Errorf("listed = %+v, want last used at %v", got, t0)
	}
	raw, _, body := f.do(t, "GET", "/api/v1/tokens", adminToken, "")
	if raw != 200 || strings.Contains(body, created.Token) || strings.Contains(body, adminToken) ||
		!strings.Contains(body, `{"name":"oncall","role":"operator","source":"config","state":"active"}`) {
		t.Errorf("token list = %d %s", raw, body)
	}

	// A forged token with the right id but another secret is refused.
	forged := created.Token[:len(created.Token)-4] + "AAAA"
	if forged == created.Token {
		forged = created.Token[:len(created.Token)-4] + "BBBB"
	}
	if _, err := f.client(forged).Whoami(ctx); !errors.Is(err, webhook.ErrUnauthorized) {
		t.Errorf("forged token: %v, want 401", err)
	}

	// Expiry: valid until the instant it expires.
	f.advance(48*time.Hour - time.Second)
	if _, err := ci.Whoami(ctx); err != nil {
		t.Fatalf("token refused before expiry: %v", err)
	}
	f.advance(time.Second)
	if _, err := ci.Whoami(ctx); !errors.Is(err, webhook.ErrUnauthorized) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired token: %v, want 401 expired", err)
	}

	// Revocation takes effect at once.
	other := f.createToken(t, "viewer")
	if _, err := f.client(other.Token).Whoami(ctx); err != nil {
		t.Fatal(err)
	}
	rev, err := admin.RevokeToken(ctx, other.ID)
	if err != nil || rev.State != "revoked" || rev.RevokedAt.IsZero() {
		t.Fatalf("revoke = %+v, %v", rev, err)
	}
	if _, err := f.client(other.Token).Whoami(ctx); !errors.Is(err, webhook.ErrUnauthorized) {
		t.Fatalf("revoked token: %v, want 401", err)
	}
	if _, err := admin.RevokeToken(ctx, "tok_nope"); !errors.Is(err, webhook.ErrNotFound) {
		t.Errorf("revoke unknown: %v, want 404", err)
	}
	// Nothing logged any token.
	if logs := f.logs.String(); strings.Contains(logs, created.Token) || strings.Contains(logs, other.Token) {
		t.Errorf("a token reached the log:\n%s", logs)
	}
}

func TestTokenCreateRejects(t *testing.T) {
	f := setup(t)
	f.createToken(t, "viewer") // tok-1
	for _, tc := range []struct {
		body   string
		status int
		has    string
	}{
		{`{"name":"Bad Name","role":"viewer"}`, 400, "name"},
		{`{"name":"ok","role":"root"}`, 400, "role"},
		{`{"name":"ok","role":"viewer","expires_in":"forever"}`, 400, "expires_in"},
		{`{"name":"ok","role":"viewer","expires_in":"9000h"}`, 400, "expires_in"},
		{`{"name":"ok","role":"viewer","expires_in":"30s"}`, 400, "expires_in"},
		{`{"name":"ok","role":"viewer","secret":"x"}`, 400, "secret"},
		{`{"name":"tok-1","role":"viewer"}`, 409, "tok-1"},
		{`{"name":"root","role":"admin"}`, 409, "config"},
	} {
		status, h, body := f.do(t, "POST", "/api/v1/tokens", adminToken, tc.body)
		if status != tc.status || h.Get("Content-Type") != "application/problem+json" || !strings.Contains(body, tc.has) {
			t.Errorf("%s = %d %s, want %d with %q", tc.body, status, body, tc.status, tc.has)
		}
	}
}

// auditEntries lists the whole audit log, oldest first.
func (f *fixture) auditEntries(t *testing.T) []api.AuditEntry {
	t.Helper()
	l, err := f.client(adminToken).Audit(context.Background(), api.AuditQuery{Ascending: true, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return l.Entries
}

func (f *fixture) rawDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+f.dbPath+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestAuditLog(t *testing.T) {
	f := setup(t)
	s := f.seed(t)
	ctx := context.Background()

	// Reads are not recorded (no PII paths configured).
	f.do(t, "GET", "/api/v1/events/"+s.shop, viewerToken, "")
	if es := f.auditEntries(t); len(es) != 0 {
		t.Fatalf("reads recorded: %+v", es)
	}

	req, _ := http.NewRequest("POST", f.srv.URL+"/api/v1/deliveries/"+s.wooCRM+"/replay", nil)
	req.Header.Set("Authorization", "Bearer "+operatorToken)
	req.Header.Set("X-Request-Id", "proxy-req-42")
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Request-Id") != "proxy-req-42" {
		t.Fatalf("replay = %d, request id %q", resp.StatusCode, resp.Header.Get("X-Request-Id"))
	}
	f.do(t, "POST", "/api/v1/deliveries/"+s.binCRM+"/replay", viewerToken, "")    // denied
	f.do(t, "POST", "/api/v1/deliveries/"+s.shopOMS+"/replay", operatorToken, "") // conflict: pending
	f.do(t, "POST", "/api/v1/deliveries/"+s.stripeOMS+"/cancel", adminToken, "")
	f.do(t, "POST", "/api/v1/dlq/replay", operatorToken, `{"all":true,"dry_run":true}`)
	f.do(t, "POST", "/api/v1/dlq/replay", badToken, `{"all":true}`) // unauthenticated: not recorded
	tok := f.createToken(t, "viewer")
	if _, err := f.client(adminToken).RevokeToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}

	type row struct{ actor, role, action, target, outcome string }
	var got []row
	es := f.auditEntries(t)
	for _, e := range es {
		got = append(got, row{e.Actor, e.Role, e.Action, e.Target, e.Outcome})
		if e.RequestID == "" || e.Hash == "" || !e.At.Equal(t0) {
			t.Errorf("entry %+v", e)
		}
	}
	want := []row{
		{"oncall", "operator", "POST /api/v1/deliveries/{id}/replay", s.wooCRM, "ok"},
		{"dash", "viewer", "POST /api/v1/deliveries/{id}/replay", s.binCRM, "denied"},
		{"oncall", "operator", "POST /api/v1/deliveries/{id}/replay", s.shopOMS, "rejected"},
		{"root", "admin", "POST /api/v1/deliveries/{id}/cancel", s.stripeOMS, "ok"},
		{"oncall", "operator", "POST /api/v1/dlq/replay", "", "ok"},
		{"root", "admin", "POST /api/v1/tokens", tok.ID, "ok"},
		{"root", "admin", "DELETE /api/v1/tokens/{id}", tok.ID, "ok"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("audit log:\n got %v\nwant %v", got, want)
	}
	if es[0].RequestID != "proxy-req-42" || es[0].Status != 200 || !strings.Contains(es[0].Detail, "dead -> pending") {
		t.Errorf("replay entry = %+v", es[0])
	}
	if es[2].Status != 409 || !strings.Contains(es[2].Detail, "pending") {
		t.Errorf("conflict entry = %+v", es[2])
	}
	if !strings.Contains(es[4].Detail, "dry run: all, matched 1") {
		t.Errorf("dlq entry detail = %q", es[4].Detail)
	}
	if !strings.Contains(es[5].Detail, "role=viewer") || strings.Contains(es[5].Detail, tok.Token) {
		t.Errorf("token entry detail = %q", es[5].Detail)
	}

	// Filters and pagination.
	l, err := f.client(adminToken).Audit(ctx, api.AuditQuery{Actor: "oncall", Limit: 2})
	if err != nil || len(l.Entries) != 2 || l.Entries[0].Seq != 5 || l.NextCursor == "" {
		t.Fatalf("audit by actor = %+v, %v", l, err)
	}
	l, err = f.client(adminToken).Audit(ctx, api.AuditQuery{Actor: "oncall", Limit: 2, Cursor: l.NextCursor})
	if err != nil || len(l.Entries) != 1 || l.Entries[0].Seq != 1 || l.NextCursor != "" {
		t.Fatalf("audit page 2 = %+v, %v", l, err)
	}

	v, err := f.client(adminToken).AuditVerify(ctx)
	if err != nil || !v.OK || v.Verified != 7 || v.HeadHash != es[6].Hash {
		t.Fatalf("verify = %+v, %v", v, err)
	}
}

// setupThreeAudited is a fixture whose audit log holds three entries: two
// replays and a cancel by the operator.
func setupThreeAudited(t *testing.T) (*fixture, seed) {
	t.Helper()
	f := setup(t)
	s := f.seed(t)
	for _, id := range []string{s.wooCRM, s.binCRM} {
		f.do(t, "POST", "/api/v1/deliveries/"+id+"/replay", operatorToken, "")
	}
	f.do(t, "POST", "/api/v1/deliveries/"+s.shopOMS+"/cancel", operatorToken, "")
	return f, s
}

// TestAuditTamperDetected edits, then deletes, a row directly in the
// database file: verification over the API reports where the chain broke.
func TestAuditTamperDetected(t *testing.T) {
	f, _ := setupThreeAudited(t)
	ctx := context.Background()
	c := f.client(adminToken)
	if v, err := c.AuditVerify(ctx); err != nil || !v.OK || v.Verified != 3 {
		t.Fatalf("before tampering: %+v, %v", v, err)
	}

	db := f.rawDB(t)
	if _, err := db.Exec(`UPDATE audit_log SET actor = 'someone-else' WHERE seq = 2`); err != nil {
		t.Fatal(err)
	}
	v, err := c.AuditVerify(ctx)
	if err != nil || v.OK || v.FirstBadSeq != 2 || v.Verified != 1 || !strings.Contains(v.Problem, "edited") {
		t.Fatalf("after editing entry 2: %+v, %v", v, err)
	}
	if _, err := db.Exec(`UPDATE audit_log SET actor = 'oncall' WHERE seq = 2`); err != nil {
		t.Fatal(err)
	}
	if v, err := c.AuditVerify(ctx); err != nil || !v.OK {
		t.Fatalf("after restoring entry 2: %+v, %v", v, err)
	}
	if _, err := db.Exec(`DELETE FROM audit_log WHERE seq = 2`); err != nil {
		t.Fatal(err)
	}
	v, err = c.AuditVerify(ctx)
	if err != nil || v.OK || v.FirstBadSeq != 3 || !strings.Contains(v.Problem, "missing") {
		t.Fatalf("after deleting entry 2: %+v, %v", v, err)
	}
	// Retention prunes only a verified prefix (entry 1, before the gap;
	// entry 3 is the head), so the gap stays visible.
	if n, err := f.store.AuditPrune(ctx, t0.Add(time.Hour), 100); err != nil || n != 1 {
		t.Fatalf("prune = %d, %v", n, err)
	}
	if v, err := c.AuditVerify(ctx); err != nil || v.OK || v.FirstBadSeq != 3 || v.PrunedThrough != 1 {
		t.Fatalf("after pruning up to the gap: %+v, %v", v, err)
	}
}

// TestAuditVerifyAfterRetention: once retention pruned the oldest entries,
// verification starts from the anchor and says so, and new entries keep
// numbering and linking from the anchor even when the table was emptied.
func TestAuditVerifyAfterRetention(t *testing.T) {
	f, s := setupThreeAudited(t)
	ctx := context.Background()
	if n, err := f.store.AuditPrune(ctx, t0.Add(time.Hour), 2); err != nil || n != 2 {
		t.Fatalf("prune = %d, %v", n, err)
	}
	c := f.client(adminToken)
	v, err := c.AuditVerify(ctx)
	if err != nil || !v.OK || v.Verified != 1 || v.PrunedThrough != 2 {
		t.Fatalf("verify after pruning 2 of 3: %+v, %v", v, err)
	}
	// With every stored entry deleted directly (a log cut short at the
	// end, which only a head hash kept elsewhere reveals), the next entry
	// continues the chain from the anchor instead of starting again at 1.
	if _, err := f.rawDB(t).Exec(`DELETE FROM audit_log WHERE seq = 3`); err != nil {
		t.Fatal(err)
	}
	f.do(t, "POST", "/api/v1/deliveries/"+s.wooCRM+"/cancel", operatorToken, "")
	after, err := c.AuditVerify(ctx)
	if err != nil || !after.OK || after.Verified != 1 || after.PrunedThrough != 2 || after.HeadHash == v.HeadHash {
		t.Fatalf("after replacing the head: %+v, %v", after, err)
	}
	l, err := c.Audit(ctx, api.AuditQuery{})
	if err != nil || len(l.Entries) != 1 || l.Entries[0].Seq != 3 {
		t.Fatalf("entries = %+v, %v; want one, numbered 3", l, err)
	}
}

const piiBody = `{"id":7,"customer":{"email":"ann@example.com","name":"Ann"},"items":[{"sku":"A","card":{"last4":"4242"}},{"sku":"B"}],"meta":{"ssn":"123-45-6789"},"note":"` + bodyMarker + `"}`

func TestPIIMasking(t *testing.T) {
	f := setupWith(t, func(c *api.Config) { c.PIIPaths = []string{"customer.email", "items.card", "*.ssn"} })
	evID, _ := f.ingest(t, "shop", "orders/create", []byte(piiBody), "oms")
	textID, _ := f.ingest(t, "woo", "order.created", []byte("email=ann@example.com"), "crm")
	qev := &webhook.Event{ID: webhook.NewID("evt_", t0), Source: "shop", Provider: "shopify", Topic: "orders/create",
		DedupKey: "q1", ReceivedAt: t0, Body: []byte(piiBody)}
	if err := f.store.Quarantine(context.Background(), qev, "schema: missing total"); err != nil {
		t.Fatal(err)
	}
	secrets := []string{"ann@example.com", "4242", "123-45-6789"}
	for _, tok := range []string{viewerToken, operatorToken} {
		_, _, body := f.do(t, "GET", "/api/v1/events/"+evID, tok, "")
		for _, want := range []string{`"email":"***"`, `"name":"Ann"`, `"card":"***"`, `"sku":"B"`, `"ssn":"***"`,
			`"body_masked":true`, `{"id":7,"customer":{`} {
			if !strings.Contains(body, want) {
				t.Errorf("masked event lacks %s:\n%s", want, body)
			}
		}
		_, _, text := f.do(t, "GET", "/api/v1/events/"+textID, tok, "")
		_, _, quar := f.do(t, "GET", "/api/v1/quarantine", tok, "")
		for _, secret := range secrets {
			for what, b := range map[string]string{"event": body, "text event": text, "quarantine": quar} {
				if strings.Contains(b, secret) {
					t.Errorf("%s shows %s to a non-admin:\n%s", what, secret, b)
				}
			}
		}
		if !strings.Contains(text, `"body_masked":true`) || strings.Contains(text, `"body"`) || !strings.Contains(text, `"body_size":21`) {
			t.Errorf("non-JSON body not withheld: %s", text)
		}
		if !strings.Contains(quar, `"email":"***"`) {
			t.Errorf("quarantine not masked: %s", quar)
		}
	}
	if es := f.auditEntries(t); len(es) != 0 {
		t.Fatalf("masked reads recorded: %+v", es)
	}

	// An admin sees the body whole, and the read is recorded.
	_, _, body := f.do(t, "GET", "/api/v1/events/"+evID, adminToken, "")
	if !strings.Contains(body, `"body":`+piiBody) || strings.Contains(body, "body_masked") {
		t.Errorf("admin view masked:\n%s", body)
	}
	f.do(t, "GET", "/api/v1/quarantine", adminToken, "")
	es := f.auditEntries(t)
	if len(es) != 2 || es[0].Action != "GET /api/v1/events/{id}" || es[0].Target != evID || es[0].Actor != "root" ||
		es[0].Detail != "unmasked body" || es[1].Action != "GET /api/v1/quarantine" {
		t.Fatalf("unmasked reads not recorded: %+v", es)
	}
}

func TestEventSearch(t *testing.T) {
	f := setup(t)
	s := f.seed(t)
	ctx := context.Background()
	ev, err := f.store.EventGet(ctx, s.woo)
	if err != nil {
		t.Fatal(err)
	}
	c := f.client(viewerToken)
	ids := func(q api.EventQuery) []string {
		t.Helper()
		l, err := c.Events(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range l.Events {
			out = append(out, e.ID)
		}
		return out
	}
	if got := ids(api.EventQuery{Q: ev.DedupKey}); fmt.Sprint(got) != fmt.Sprint([]string{s.woo}) {
		t.Errorf("q=dedup key: %v", got)
	}
	if got := ids(api.EventQuery{Q: s.bin}); fmt.Sprint(got) != fmt.Sprint([]string{s.bin}) {
		t.Errorf("q=event id: %v", got)
	}
	if got := ids(api.EventQuery{Q: "key-"}); len(got) != 4 {
		t.Errorf("q=key- prefix: %v, want all 4", got)
	}
	if got := ids(api.EventQuery{States: []string{"dead"}}); fmt.Sprint(got) != fmt.Sprint([]string{s.bin, s.woo}) {
		t.Errorf("state=dead: %v", got)
	}
	if got := ids(api.EventQuery{States: []string{"dead"}, Source: "woo"}); fmt.Sprint(got) != fmt.Sprint([]string{s.woo}) {
		t.Errorf("state=dead&source=woo: %v", got)
	}
	if status, _, body := f.do(t, "GET", "/api/v1/events?state=zombie", viewerToken, ""); status != 400 || !strings.Contains(body, "state") {
		t.Errorf("bad state = %d %s", status, body)
	}
}

// TestSharedAuthenticator checks the exported Authenticator the console
// uses: config and stored tokens, with the same verdicts as the API.
func TestSharedAuthenticator(t *testing.T) {
	f := setup(t)
	tok := f.createToken(t, "operator")
	a := api.NewAuthenticator(nil, f.store, func() time.Time { return t0 })
	id, err := a.Authenticate(context.Background(), tok.Token)
	if err != nil || id.Name != tok.Name || id.Role != "operator" || id.TokenID != tok.ID {
		t.Fatalf("Authenticate(stored) = %+v, %v", id, err)
	}
	for _, bad := range []string{"", viewerToken, "hyt_0123456789abcdef_nope", tok.Token + "x"} {
		if _, err := a.Authenticate(context.Background(), bad); !errors.Is(err, webhook.ErrUnauthorized) {
			t.Errorf("Authenticate(%q) = %v, want ErrUnauthorized", bad, err)
		}
	}
	late := api.NewAuthenticator(nil, f.store, func() time.Time { return t0.Add(api.DefaultTokenTTL) })
	if _, err := late.Authenticate(context.Background(), tok.Token); !errors.Is(err, webhook.ErrUnauthorized) {
		t.Errorf("expired = %v", err)
	}
}

// TestAttemptResponseMasking: a destination that echoes what it was sent
// must not show a viewer the PII the event body hides.
func TestAttemptResponseMasking(t *testing.T) {
	f := setupWith(t, func(c *api.Config) { c.PIIPaths = []string{"customer.email", "*.ssn"} })
	evID, dels := f.ingest(t, "shop", "orders/create", []byte(piiBody), "oms", "wh", "bin", "plain")
	textID, textDels := f.ingest(t, "woo", "order.created", []byte("email=ann@example.com"), "crm")
	answers := map[string]string{
		"oms":   `rejected: ann@example.com is on the blocklist`,
		"wh":    `{"customer":{"email":"ann@example.com","tier":"gold"},"ssn":"123-45-6789","echo":"id 123-45-6789"}`,
		"bin":   "\xff\xfe ann@example.com",
		"plain": `{"error":"bad order"}`,
		"crm":   `no such customer ann@example.com`,
	}
	for dest, a := range answers {
		f.killAnswering(t, dest, []byte(a))
	}
	byDest := map[string]string{}
	for _, id := range append(dels, textDels...) {
		d, err := f.store.DeliveryGet(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		byDest[d.Destination] = id
	}
	want := map[string]api.Attempt{
		"oms":   {ResponseBody: `rejected: *** is on the blocklist`, ResponseBodyMasked: true},
		"wh":    {ResponseBody: `{"customer":{"email":"***","tier":"gold"},"ssn":"***","echo":"id ***"}`, ResponseBodyMasked: true},
		"bin":   {ResponseBodyMasked: true},
		"plain": {ResponseBody: `{"error":"bad order"}`},
		"crm":   {ResponseBodyMasked: true},
	}
	ctx := context.Background()
	for _, tok := range []string{viewerToken, operatorToken} {
		c := f.client(tok)
		for dest, id := range byDest {
			d, err := c.Delivery(ctx, id)
			if err != nil || len(d.Attempts) != 1 {
				t.Fatalf("%s: %+v, %v", dest, d, err)
			}
			a := d.Attempts[0]
			if w := want[dest]; a.ResponseBody != w.ResponseBody || a.ResponseBodyMasked != w.ResponseBodyMasked || a.ResponseBodyEncoding != "" {
				t.Errorf("%s: answer %q masked=%v encoding=%q, want %q masked=%v", dest, a.ResponseBody,
					a.ResponseBodyMasked, a.ResponseBodyEncoding, w.ResponseBody, w.ResponseBodyMasked)
			}
		}
		for _, id := range []string{evID, textID} {
			_, _, body := f.do(t, "GET", "/api/v1/events/"+id, tok, "")
			for _, secret := range []string{"ann@example.com", "123-45-6789"} {
				if strings.Contains(body, secret) {
					t.Errorf("event %s shows %s to a non-admin:\n%s", id, secret, body)
				}
			}
		}
	}
	if es := f.auditEntries(t); len(es) != 0 {
		t.Fatalf("masked reads recorded: %+v", es)
	}

	// An admin sees every answer whole, and each read is recorded.
	d, err := f.client(adminToken).Delivery(ctx, byDest["oms"])
	if err != nil || d.Attempts[0].ResponseBody != answers["oms"] || d.Attempts[0].ResponseBodyMasked {
		t.Fatalf("admin delivery view = %+v, %v", d, err)
	}
	_, _, body := f.do(t, "GET", "/api/v1/events/"+evID, adminToken, "")
	if !strings.Contains(body, "rejected: ann@example.com is on the blocklist") {
		t.Errorf("admin event view masks answers:\n%s", body)
	}
	es := f.auditEntries(t)
	if len(es) != 2 || es[0].Target != byDest["oms"] || es[0].Detail != "unmasked attempt responses" ||
		es[1].Target != evID || es[1].Detail != "unmasked body; unmasked attempt responses" {
		t.Fatalf("unmasked reads recorded as %+v", es)
	}
}
