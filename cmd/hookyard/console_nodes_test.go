package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
)

// TestConsoleSessionAcrossNodes: console logins live in the database, so
// behind a load balancer a session opened on one node works on the
// others, a logout on one ends it on all, and a node started later (a
// restart or a deploy) still knows it.
func TestConsoleSessionAcrossNodes(t *testing.T) {
	dsn, _ := pgSchema(t, "hy_con")
	sk := newSink(t, nil)
	dests, routes := httpDest("oms", sk.srv.URL, ""), "  - {source: shop, destination: oms}"
	a := startPGNode(t, dsn, dests, routes)
	b := startPGNode(t, dsn, dests, routes)

	// One browser: its cookie jar sends the session cookie to every node
	// on the host (cookies do not depend on the port).
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(n *node, method, path string, form url.Values) (int, string) {
		t.Helper()
		var resp *http.Response
		var err error
		if method == http.MethodPost {
			resp, err = hc.PostForm("http://"+n.adminAddr+path, form)
		} else {
			resp, err = hc.Get("http://" + n.adminAddr + path)
		}
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	login := func(n *node) { consoleLoginWith(t, hc, n) }
	loggedIn := func(n *node) (bool, string) {
		t.Helper()
		status, page := do(n, http.MethodGet, "/console/", nil)
		return status == http.StatusOK && strings.Contains(page, "ops"), page
	}

	login(a)
	okA, _ := loggedIn(a)
	okB, page := loggedIn(b)
	if !okA || !okB {
		t.Fatalf("session opened on node A: A %v, B %v", okA, okB)
	}
	// Logging out on B ends the session on A too.
	if status, _ := do(b, http.MethodPost, "/console/logout", url.Values{"csrf": {csrfOf(t, page)}}); status != http.StatusSeeOther {
		t.Fatalf("logout on B: %d", status)
	}
	if ok, _ := loggedIn(a); ok {
		t.Fatal("node A still knows a session ended on node B")
	}

	// A node started after the login knows the session.
	login(b)
	b.cancel()
	b.wait()
	c := startPGNode(t, dsn, dests, routes)
	if ok, page := loggedIn(c); !ok {
		t.Fatalf("a node started after the login does not know the session:\n%.300s", page)
	}
}
