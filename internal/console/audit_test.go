package console_test

import (
	"database/sql"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// apiCall calls the admin API directly with a bearer token.
func (f *fixture) apiCall(t *testing.T, method, path, token string) int {
	t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

var auditRowRE = regexp.MustCompile(`<tr><td class="num">(\d+)</td>`)

// auditSeqs returns the sequence numbers of the entries a page lists.
func auditSeqs(page string) []string {
	var out []string
	for _, m := range auditRowRE.FindAllStringSubmatch(page, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestAuditPage(t *testing.T) {
	f := setup(t)
	_, dls := f.ingest(t, "shop", "orders/create", "wh-1", "oms")
	// 55 refused replays by the viewer, then one cancel by the operator:
	// 56 entries, more than one page of 50.
	for range 55 {
		if st := f.apiCall(t, http.MethodPost, "/api/v1/dlq/replay", viewerToken); st != http.StatusForbidden {
			t.Fatalf("viewer replay: %d", st)
		}
	}
	op := f.browser(t)
	tok := op.login(operatorToken)
	if a := op.do(http.MethodPost, "/console/deliveries/"+dls[0]+"/cancel", url.Values{"csrf": {tok}}); a.status != http.StatusSeeOther {
		t.Fatalf("cancel: %d\n%s", a.status, a.body)
	}

	// Neither the viewer nor the operator gets a link or the page.
	for _, tk := range []string{viewerToken, operatorToken} {
		b := f.browser(t)
		b.login(tk)
		if home := b.get("/console/"); strings.Contains(home.body, `href="/console/audit"`) {
			t.Errorf("%s sees the audit log link", tk)
		}
		for _, p := range []string{"/console/audit", "/console/audit/verify"} {
			if a := b.get(p); a.status != http.StatusForbidden || strings.Contains(a.body, "/api/v1/deliveries/{id}/cancel") {
				t.Errorf("%s GET %s: %d", tk, p, a.status)
			}
		}
	}

	admin := f.browser(t)
	admin.login(adminToken)
	if home := admin.get("/console/"); !strings.Contains(home.body, `href="/console/audit"`) {
		t.Error("the admin sees no audit log link")
	}
	a := admin.get("/console/audit")
	if a.status != http.StatusOK {
		t.Fatalf("audit page: %d\n%s", a.status, a.body)
	}
	seqs := auditSeqs(a.body)
	if len(seqs) != 50 || seqs[0] != "56" || seqs[49] != "7" {
		t.Fatalf("first page lists %d entries %v, want 56 down to 7", len(seqs), seqs)
	}
	if !strings.Contains(a.body, "POST /api/v1/deliveries/{id}/cancel") || !strings.Contains(a.body, dls[0]) ||
		!strings.Contains(a.body, "pending -&gt; cancelled") {
		t.Errorf("the cancel entry lacks its action, target or detail:\n%s", a.body)
	}
	next := regexp.MustCompile(`href="([^"]+)" id="next"`).FindStringSubmatch(a.body)
	if next == nil {
		t.Fatal("no link to the next page")
	}
	a = admin.get(strings.ReplaceAll(next[1], "&amp;", "&"))
	if seqs := auditSeqs(a.body); len(seqs) != 6 || seqs[0] != "6" || seqs[5] != "1" || strings.Contains(a.body, `id="next"`) {
		t.Fatalf("second page lists %v", seqs)
	}

	// Filters by actor, action and time go to the API.
	a = admin.get("/console/audit?actor=oncall")
	if seqs := auditSeqs(a.body); len(seqs) != 1 || seqs[0] != "56" {
		t.Errorf("actor=oncall lists %v", seqs)
	}
	a = admin.get("/console/audit?action=" + url.QueryEscape("POST /api/v1/dlq/replay") + "&actor=dash")
	if seqs := auditSeqs(a.body); len(seqs) != 50 || seqs[0] != "55" || !strings.Contains(a.body, "denied") {
		t.Errorf("the viewer's refused replays: %v", seqs)
	}
	a = admin.get("/console/audit?since=" + url.QueryEscape(t0.Add(time.Minute).Format(time.RFC3339)))
	if seqs := auditSeqs(a.body); len(seqs) != 0 || !strings.Contains(a.body, "No audit entry matches") {
		t.Errorf("since after every entry lists %v", seqs)
	}
	if a := admin.get("/console/audit?since=yesterday"); a.status != http.StatusBadRequest || !strings.Contains(a.body, "since:") {
		t.Errorf("bad since: %d", a.status)
	}

	// Verify: intact, then broken by an edit made directly in the file.
	a = admin.get("/console/audit/verify")
	if a.status != http.StatusOK || !strings.Contains(a.body, "Chain intact.") || !strings.Contains(a.body, "56 entries verified") {
		t.Fatalf("verify: %d\n%s", a.status, a.body)
	}
	db, err := sql.Open("sqlite", "file:"+f.path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE audit_log SET actor = 'someone-else' WHERE seq = 56`); err != nil {
		t.Fatal(err)
	}
	a = admin.get("/console/audit/verify")
	if !strings.Contains(a.body, "Chain broken at entry 56.") || !strings.Contains(a.body, "55 entries checked out") {
		t.Fatalf("verify after tampering:\n%s", a.body)
	}
}
