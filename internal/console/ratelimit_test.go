package console_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestLoginRateLimited: ten attempts a minute per client address; the
// eleventh answers 429 with Retry-After even with a good token, another
// address is unaffected, and the bucket refills with time.
func TestLoginRateLimited(t *testing.T) {
	f := setup(t)
	b := f.browser(t)
	for i := range 10 {
		form := b.get("/console/login")
		a := b.do(http.MethodPost, "/console/login", url.Values{"csrf": {csrf(t, form.body)}, "token": {"wrong-token-0123456789"}})
		if a.status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i+1, a.status)
		}
	}
	form := b.get("/console/login")
	a := b.do(http.MethodPost, "/console/login", url.Values{"csrf": {csrf(t, form.body)}, "token": {adminToken}})
	if a.status != http.StatusTooManyRequests || a.header.Get("Retry-After") != "6" ||
		!strings.Contains(a.body, "Too many login attempts") {
		t.Fatalf("11th attempt: %d Retry-After %q\n%s", a.status, a.header.Get("Retry-After"), a.body)
	}
	if b.get("/console/").status != http.StatusSeeOther {
		t.Fatal("a limited login opened a session")
	}

	// Another address still logs in (requests served in-process with their
	// own RemoteAddr: the limit keys on the connection, not on headers).
	h := f.srv.Config.Handler
	get := httptest.NewRequest(http.MethodGet, "/console/login", nil)
	get.RemoteAddr = "192.0.2.7:40000"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, get)
	post := httptest.NewRequest(http.MethodPost, "/console/login", strings.NewReader(url.Values{
		"csrf": {csrf(t, rec.Body.String())}, "token": {adminToken}}.Encode()))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range rec.Result().Cookies() {
		post.AddCookie(c)
	}
	post.RemoteAddr = "192.0.2.7:40001"
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, post)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("login from another address: %d\n%s", rec.Code, rec.Body)
	}

	// A forwarded-for header does not buy a fresh bucket.
	form = b.get("/console/login")
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/console/login", strings.NewReader(url.Values{
		"csrf": {csrf(t, form.body)}, "token": {adminToken}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", "198.51.100.9")
	resp, err := b.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("with X-Forwarded-For: %d", resp.StatusCode)
	}

	// Six seconds refill one attempt.
	f.mu.Lock()
	f.now = f.now.Add(6 * time.Second)
	f.mu.Unlock()
	b.login(adminToken)
}
